package faultfs

// pageBytes is the granularity of file contents. A page that was never
// written with a non-zero byte is not allocated, so a large zero-filled
// (preallocated) file costs a slice of nil pointers, and writing zeros over
// whole pages frees them again.
const pageBytes = 4 << 10

type page = [pageBytes]byte

// content is a file's bytes: size bytes, stored in pages; a nil page (or a
// page beyond len(pages)) reads as zeros. Bytes at or beyond size in the last
// page are always zero, so growing the size never exposes old data.
type content struct {
	size  int64
	pages []*page
}

func pageCount(size int64) int { return int((size + pageBytes - 1) / pageBytes) }

// clone returns an independent deep copy.
func (c *content) clone() content {
	out := content{size: c.size, pages: make([]*page, len(c.pages))}
	for i, p := range c.pages {
		if p != nil {
			cp := *p
			out.pages[i] = &cp
		}
	}
	return out
}

// bytes materializes the contents.
func (c *content) bytes() []byte {
	b := make([]byte, c.size)
	c.readAt(b, 0)
	return b
}

// readAt copies bytes from off into b (clamped to size) and returns the count.
func (c *content) readAt(b []byte, off int64) int {
	if off >= c.size {
		return 0
	}
	n := int(min(int64(len(b)), c.size-off))
	for done := 0; done < n; {
		pi, po := int((off+int64(done))/pageBytes), int((off+int64(done))%pageBytes)
		k := min(n-done, pageBytes-po)
		if pi < len(c.pages) && c.pages[pi] != nil {
			copy(b[done:done+k], c.pages[pi][po:po+k])
		} else {
			clear(b[done : done+k])
		}
		done += k
	}
	return n
}

// writeAt stores b at off, growing the size; zero runs allocate nothing.
func (c *content) writeAt(b []byte, off int64) {
	c.write(off, int64(len(b)), b)
}

// zeroAt stores n zero bytes at off without needing a buffer.
func (c *content) zeroAt(off, n int64) { c.write(off, n, nil) }

// write stores n bytes at off: b's bytes, or zeros when b is nil.
func (c *content) write(off, n int64, b []byte) {
	if end := off + n; end > c.size {
		c.size = end
	}
	if need := pageCount(c.size); need > len(c.pages) {
		c.pages = append(c.pages, make([]*page, need-len(c.pages))...)
	}
	for done := int64(0); done < n; {
		pi, po := int((off+done)/pageBytes), int((off+done)%pageBytes)
		k := min(n-done, int64(pageBytes-po))
		var src []byte
		if b != nil {
			src = b[done : done+k]
		}
		c.writePage(pi, po, src, int(k))
		done += k
	}
}

func (c *content) writePage(pi, po int, src []byte, k int) {
	p := c.pages[pi]
	if src == nil || allZero(src) {
		switch {
		case p == nil:
		case k == pageBytes:
			c.pages[pi] = nil
		default:
			clear(p[po : po+k])
		}
		return
	}
	if p == nil {
		p = new(page)
		c.pages[pi] = p
	}
	copy(p[po:po+k], src)
}

// truncate sets the size; bytes beyond a shrunk size are forgotten (zeroed),
// so a later extension reads zeros there.
func (c *content) truncate(size int64) {
	if size < c.size {
		np := pageCount(size)
		for i := np; i < len(c.pages); i++ {
			c.pages[i] = nil
		}
		c.pages = c.pages[:np]
		if po := int(size % pageBytes); po != 0 && c.pages[np-1] != nil {
			clear(c.pages[np-1][po:])
		}
	}
	c.size = size
	if need := pageCount(size); need > len(c.pages) {
		c.pages = append(c.pages, make([]*page, need-len(c.pages))...)
	}
}

// flip flips one bit; the caller checked off < size.
func (c *content) flip(off int64, bit uint) {
	pi, po := int(off/pageBytes), int(off%pageBytes)
	if c.pages[pi] == nil {
		c.pages[pi] = new(page)
	}
	c.pages[pi][po] ^= 1 << bit
}

var zeroBlock [4096]byte

func allZero(b []byte) bool {
	for len(b) > 0 {
		k := min(len(b), len(zeroBlock))
		if string(b[:k]) != string(zeroBlock[:k]) {
			return false
		}
		b = b[k:]
	}
	return true
}
