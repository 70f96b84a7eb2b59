package main

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel kill the service if certfaults itself dies, so that
// an interrupted run leaves no server behind on the port.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
