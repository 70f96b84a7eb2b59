package auth_test

import (
	"testing"

	"github.com/apformation/certapi/internal/auth"
)

func TestWeakPassword(t *testing.T) {
	for _, c := range []struct {
		password, email string
		weak            bool
	}{
		{"password1234", "a@x.example", true},
		{"Password2024!!", "a@x.example", true},
		{"motdepasse123", "a@x.example", true},
		{"123456789012", "a@x.example", true},
		{"qwertyuiop12", "a@x.example", true},
		{"AZERTYUIOP!!", "a@x.example", true},
		{"1q2w3e4r5t6y", "a@x.example", true},
		{"aaaaaaaaaaaa", "a@x.example", true},
		{"abababababab", "a@x.example", true},
		{"apformation2026", "a@x.example", true},
		{"camille.martin2019", "camille.martin@example.org", true},
		{"xx-camille.martin@example.org", "camille.martin@example.org", true},
		{"a-long-enough-password", "a@x.example", false},
		{"correct horse battery staple", "a@x.example", false},
		{"Tr0ub4dour&3-Lemon", "a@x.example", false},
		{"cheval vert sous la pluie", "camille@example.org", false},
	} {
		if got := auth.WeakPassword(c.password, c.email) != ""; got != c.weak {
			t.Errorf("%q (%s): weak=%t, want %t", c.password, c.email, got, c.weak)
		}
	}
}
