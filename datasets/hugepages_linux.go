package datasets

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// hugePage is the size of a transparent huge page on amd64 and arm64.
const hugePage = 2 << 20

// adviseHuge asks the kernel to back the memory of b with transparent huge
// pages (madvise MADV_HUGEPAGE) before it is first written: a fresh 128 MiB
// array then takes 64 page faults instead of 32768, which on a virtual
// machine is most of the time a large read spends (NumPy does the same for
// its arrays). Only whole huge pages inside b are advised; the advice is a
// hint, and an error is ignored.
func adviseHuge(p unsafe.Pointer, n int) {
	if n < 4*hugePage {
		return
	}
	base := uintptr(p)
	skip := (hugePage - base%hugePage) % hugePage
	length := (uintptr(n) - skip) &^ (hugePage - 1)
	if uintptr(n) <= skip || length == 0 {
		return
	}
	_ = unix.Madvise(unsafe.Slice((*byte)(unsafe.Add(p, skip)), length), unix.MADV_HUGEPAGE)
}
