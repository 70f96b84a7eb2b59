//go:build !linux

package main

import "os/exec"

// dieWithParent is a Linux facility; elsewhere the deferred stop has to do.
func dieWithParent(*exec.Cmd) {}
