// A static Go program for tests/suites/debian_programs.rs: goroutines on
// several threads, channels, a contended mutex, the concurrent garbage
// collector, signal-based preemption of a tight loop, and os/exec. Go's
// runtime leans on clone, futex, signals and sigaltstack as few C programs do.
package main

import (
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
)

func busy(n int) int {
	s := 0
	for i := 0; i < n; i++ {
		s += i % 7
	}
	return s
}

func main() {
	runtime.GOMAXPROCS(4)
	var wg sync.WaitGroup
	results := make([]int, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i] = busy(2000000 + i)
		}(i)
	}
	wg.Wait()
	fmt.Println("goroutines:", results)

	ch := make(chan int)
	go func() {
		for i := 0; i < 1000; i++ {
			ch <- i
		}
		close(ch)
	}()
	sum := 0
	for v := range ch {
		sum += v
	}
	fmt.Println("channel sum:", sum)

	// Allocation-heavy: the GC runs concurrently and preempts goroutines.
	var m sync.Mutex
	words := map[string]int{}
	var wg2 sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg2.Add(1)
		go func(g int) {
			defer wg2.Done()
			for i := 0; i < 20000; i++ {
				k := strings.Repeat(string(rune('a'+(i+g)%26)), 1+i%5)
				m.Lock()
				words[k]++
				m.Unlock()
			}
		}(g)
	}
	wg2.Wait()
	keys := make([]string, 0, len(words))
	for k := range words {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Println("distinct words:", len(keys), "first:", keys[0], words[keys[0]])

	// A tight loop without function calls is preempted by a signal.
	done := make(chan bool)
	go func() {
		x := 0
		for i := 0; i < 300000000; i++ {
			x ^= i
		}
		_ = x
		done <- true
	}()
	select {
	case <-done:
	case <-time.After(120 * time.Second):
		fmt.Println("timeout")
	}
	fmt.Println("tight loop done")

	h := sha256.Sum256([]byte("transit"))
	fmt.Printf("sha256: %x\n", h[:8])
	out, err := exec.Command("/bin/echo", "child says hi").Output()
	fmt.Printf("exec: %q %v\n", strings.TrimSpace(string(out)), err)
	os.Exit(3)
}
