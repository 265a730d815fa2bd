//go:build !cgo || !linux

package main

// mallocDefault has nothing to tune without glibc's allocator.
func mallocDefault() {}
