//go:build !linux

package main

// adviseHugePages is Linux's (hugepages_linux.go).
func adviseHugePages() uintptr { return 0 }
