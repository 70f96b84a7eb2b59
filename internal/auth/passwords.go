package auth

import (
	"strings"
	"unicode"
)

// commonBases are words people build passwords from: alone, or with digits and
// signs around them, they are among the first a guesser tries (NIST SP 800-63B
// 5.1.1.2: commonly used, expected or context-specific values are refused).
var commonBases = []string{
	"password", "passw0rd", "motdepasse", "azerty", "qwerty", "iloveyou", "welcome", "letmein", "admin", "administrator",
	"changeme", "soleil", "bonjour", "football", "baseball", "superman", "trustno1", "monkey", "dragon", "sunshine",
	"princess", "master", "secret", "toulouse", "montpellier", "paris", "france",
	// The service's own context.
	"apformation", "certapi", "certification", "communitymanager", "community", "manager", "rncp", "rncp26206",
}

// keyboardRuns are the rows and columns people walk on a keyboard.
var keyboardRuns = []string{
	"qwertyuiop", "asdfghjkl", "zxcvbnm", "azertyuiop", "qsdfghjklm", "wxcvbn",
	"1qaz2wsx3edc4rfv", "zaq12wsxcde3", "qazwsxedcrfv", "1q2w3e4r5t6y7u8i9o0p",
	"0123456789", "9876543210", "abcdefghijklmnopqrstuvwxyz",
}

// WeakPassword says why a password may not be used, or "" when it may: one built on
// a common word, the account's own email, a keyboard walk or a sequence, or one
// character repeated.
func WeakPassword(password, email string) string {
	p := strings.ToLower(password)
	core := strings.TrimFunc(p, func(r rune) bool { return !unicode.IsLetter(r) })
	if core == "" {
		core = p
	}
	local, _, _ := strings.Cut(strings.ToLower(email), "@")
	switch {
	case email != "" && (strings.Contains(p, strings.ToLower(email)) || (len(local) >= 4 && strings.Contains(p, local))):
		return "the password contains the account's email"
	case len(distinct(p)) <= 2:
		return "the password repeats one or two characters"
	}
	for _, b := range commonBases {
		if core == b || strings.Trim(p, "0123456789!?.@#$%&*_-+= ") == b || strings.Repeat(b, 2) == core {
			return "the password is built on a commonly used word"
		}
	}
	for _, run := range keyboardRuns {
		if isWalk(p, run) {
			return "the password is a keyboard walk or a sequence"
		}
	}
	return ""
}

func distinct(s string) map[rune]bool {
	m := map[rune]bool{}
	for _, r := range s {
		m[r] = true
	}
	return m
}

// isWalk reports whether p, digits and signs set aside, lies along run (or the run
// backwards) for most of its length.
func isWalk(p, run string) bool {
	letters := strings.Trim(p, "!?.@#$%&*_-+= ")
	if len(letters) < 6 {
		return false
	}
	reversed := []rune(run)
	for i, j := 0, len(reversed)-1; i < j; i, j = i+1, j-1 {
		reversed[i], reversed[j] = reversed[j], reversed[i]
	}
	for _, r := range []string{run, string(reversed)} {
		for n := len(letters); n >= len(letters)*3/4 && n >= 6; n-- {
			for start := 0; start+n <= len(letters); start++ {
				if strings.Contains(r+r, letters[start:start+n]) {
					return true
				}
			}
		}
	}
	return false
}
