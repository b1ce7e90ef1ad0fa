//go:build !linux

package main

// startPrefault is Linux's (prefault_linux.go).
func startPrefault(hugePages bool) {}
