//go:build unix

package store

import (
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// mapGeneration maps f's first 8 bytes shared: a store in any process that maps
// the same file sees every move of the counter at once.
func mapGeneration(f *os.File) (*generation, error) {
	mem, err := syscall.Mmap(int(f.Fd()), 0, 8, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return nil, err
	}
	// A mapping starts on a page boundary, so the counter is 8-byte aligned, as
	// atomic operations need.
	return &generation{mem: mem, n: (*atomic.Uint64)(unsafe.Pointer(&mem[0]))}, nil
}

func unmapGeneration(g *generation) error { return syscall.Munmap(g.mem) }
