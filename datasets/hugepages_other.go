//go:build !linux

package datasets

import "unsafe"

func adviseHuge(p unsafe.Pointer, n int) {}
