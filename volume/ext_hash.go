package volume

// The name hashes of ext3/ext4 hashed directories (kernel
// Documentation/filesystems/ext4 "Hash Tree Directories"; the functions
// are those of the kernel's fs/ext4/hash.c and e2fsprogs' lib/ext2fs/dirhash.c,
// which debugfs's dx_hash command computes: the tests compare with it).

// Hash versions as dx_root_info.hash_version has them.
const (
	dxHashLegacy         = 0
	dxHashHalfMD4        = 1
	dxHashTea            = 2
	dxHashLegacyUnsigned = 3
	dxHashHalfMD4Unsign  = 4
	dxHashTeaUnsigned    = 5
	dxHashSipHash        = 6 // casefolded and encrypted directories: not computed here
)

// dxHashEOF is the hash the kernel reserves for the end of a directory
// (EXT4_HTREE_EOF_32BIT << 1); a name that hashes to it takes the one below.
const dxHashEOF = 0x7fffffff << 1

// extNameHash returns the major hash of name under hash version v (0-5)
// and the superblock's s_hash_seed, with its low bit clear (the index
// uses that bit to mark a collision run continuing from the previous leaf).
// The unsigned versions read the name's bytes as unsigned char, the
// signed ones as signed char (what x86 kernels did when the flag was born).
func extNameHash(name []byte, v int, seed [4]uint32) uint32 {
	buf := [4]uint32{0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476}
	if seed != [4]uint32{} {
		buf = seed
	}
	unsigned := v >= dxHashLegacyUnsigned
	var h uint32
	switch v % 3 {
	case dxHashLegacy:
		h = dxHackHash(name, unsigned)
	case dxHashHalfMD4:
		for p := name; len(p) > 0; p = p[min(32, len(p)):] {
			var in [8]uint32
			hashWords(p, in[:], unsigned)
			halfMD4(&buf, &in)
		}
		h = buf[1]
	case dxHashTea:
		for p := name; len(p) > 0; p = p[min(16, len(p)):] {
			var in [4]uint32
			hashWords(p, in[:], unsigned)
			teaTransform(&buf, &in)
		}
		h = buf[0]
	}
	h &^= 1
	if h == dxHashEOF {
		h = dxHashEOF - 2
	}
	return h
}

// char is a name byte as the C code's (signed or unsigned) char, widened
// to 32 bits.
func char(c byte, unsigned bool) uint32 {
	if unsigned {
		return uint32(c)
	}
	return uint32(int32(int8(c)))
}

// dxHackHash is the legacy hash.
func dxHackHash(name []byte, unsigned bool) uint32 {
	h0, h1 := uint32(0x12a3fe2d), uint32(0x37abe8f9)
	for _, c := range name {
		h := h1 + (h0 ^ char(c, unsigned)*7152373)
		if h&0x80000000 != 0 {
			h -= 0x7fffffff
		}
		h1, h0 = h0, h
	}
	return h0 << 1
}

// hashWords packs the first 4*len(out) bytes of p into out, big-end first
// within each word, padding with a word made of len(p) (the bytes left,
// not just those packed).
func hashWords(p []byte, out []uint32, unsigned bool) {
	pad := uint32(len(p)) | uint32(len(p))<<8
	pad |= pad << 16
	val := pad
	n := min(len(p), 4*len(out))
	k := 0
	for i := 0; i < n; i++ {
		val = char(p[i], unsigned) + val<<8
		if i%4 == 3 {
			out[k] = val
			k++
			val = pad
		}
	}
	if k < len(out) {
		out[k] = val
		k++
	}
	for ; k < len(out); k++ {
		out[k] = pad
	}
}

func rol32(x uint32, s uint) uint32 { return x<<s | x>>(32-s) }

// halfMD4 is MD4's compression cut to three rounds of eight steps.
func halfMD4(buf *[4]uint32, in *[8]uint32) {
	const k2, k3 = 0x5a827999, 0x6ed9eba1
	f := func(x, y, z uint32) uint32 { return z ^ (x & (y ^ z)) }
	g := func(x, y, z uint32) uint32 { return (x & y) + ((x ^ y) & z) }
	h := func(x, y, z uint32) uint32 { return x ^ y ^ z }
	a, b, c, d := buf[0], buf[1], buf[2], buf[3]
	type step struct {
		fn  func(x, y, z uint32) uint32
		k   uint32
		idx [8]int
		rot [4]uint
	}
	for _, r := range []step{
		{f, 0, [8]int{0, 1, 2, 3, 4, 5, 6, 7}, [4]uint{3, 7, 11, 19}},
		{g, k2, [8]int{1, 3, 5, 7, 0, 2, 4, 6}, [4]uint{3, 5, 9, 13}},
		{h, k3, [8]int{3, 7, 2, 6, 1, 5, 0, 4}, [4]uint{3, 9, 11, 15}},
	} {
		for i := 0; i < 8; i += 4 {
			a = rol32(a+r.fn(b, c, d)+in[r.idx[i]]+r.k, r.rot[0])
			d = rol32(d+r.fn(a, b, c)+in[r.idx[i+1]]+r.k, r.rot[1])
			c = rol32(c+r.fn(d, a, b)+in[r.idx[i+2]]+r.k, r.rot[2])
			b = rol32(b+r.fn(c, d, a)+in[r.idx[i+3]]+r.k, r.rot[3])
		}
	}
	buf[0] += a
	buf[1] += b
	buf[2] += c
	buf[3] += d
}

// teaTransform is 16 rounds of TEA over the first two words of buf.
func teaTransform(buf *[4]uint32, in *[4]uint32) {
	const delta = 0x9e3779b9
	var sum uint32
	b0, b1 := buf[0], buf[1]
	for i := 0; i < 16; i++ {
		sum += delta
		b0 += ((b1 << 4) + in[0]) ^ (b1 + sum) ^ ((b1 >> 5) + in[1])
		b1 += ((b0 << 4) + in[2]) ^ (b0 + sum) ^ ((b0 >> 5) + in[3])
	}
	buf[0] += b0
	buf[1] += b1
}
