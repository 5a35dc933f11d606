//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package cli

import (
	"errors"
	"os"
)

// isTerminal reports false where the echo cannot be turned off: the
// password is then read from standard input as a pipe.
func isTerminal(*os.File) bool { return false }

func readHidden(*os.File) (string, error) {
	return "", errors.New("cannot hide typed input here: pipe the password on standard input")
}
