package volume

// FAT12, FAT16 and FAT32 (Microsoft "FAT: General Overview of On-Disk
// Format" 1.03, with VFAT long names).
//
// This is our own reader rather than go-diskfs's filesystem/fat32: that
// package loads both FATs whole and refuses a volume whose copies differ,
// walks cluster chains without a loop guard (a cyclic chain on a damaged
// disk grows a slice until memory runs out), ignores read errors (returning
// zeros), re-walks a file's whole chain on every Read, reads FAT32 only, and
// hides deleted entries. Here the FAT is read lazily through a bounded page
// cache, every chain walk is bounded, and a file is a list of extents read
// with ReaderAt.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf16"

	"golang.org/x/text/encoding/charmap"
)

// bpb is the checked BIOS parameter block of a FAT volume.
type bpb struct {
	kind              string // "fat12", "fat16", "fat32"
	bytesPerSector    int64
	sectorsPerCluster int64
	reserved          int64
	numFATs           int64
	rootEntries       int64
	totalSectors      int64
	fatSectors        int64
	rootCluster       uint32 // FAT32
	clusters          uint32 // data clusters (numbered 2..clusters+1)
	label             string
}

// parseBPB checks a FAT boot sector (FAT spec section 3) and classifies the
// volume by its cluster count, as the spec says to.
func parseBPB(b []byte) (*bpb, error) {
	if len(b) < 512 {
		return nil, errors.New("boot sector too short")
	}
	if (b[0] != 0xeb && b[0] != 0xe9) || b[510] != 0x55 || b[511] != 0xaa {
		return nil, errors.New("no FAT boot sector signature")
	}
	p := &bpb{
		bytesPerSector:    int64(binary.LittleEndian.Uint16(b[11:])),
		sectorsPerCluster: int64(b[13]),
		reserved:          int64(binary.LittleEndian.Uint16(b[14:])),
		numFATs:           int64(b[16]),
		rootEntries:       int64(binary.LittleEndian.Uint16(b[17:])),
		totalSectors:      int64(binary.LittleEndian.Uint16(b[19:])),
		fatSectors:        int64(binary.LittleEndian.Uint16(b[22:])),
	}
	switch p.bytesPerSector {
	case 512, 1024, 2048, 4096:
	default:
		return nil, fmt.Errorf("bytes per sector %d", p.bytesPerSector)
	}
	if spc := p.sectorsPerCluster; spc == 0 || spc&(spc-1) != 0 || spc*p.bytesPerSector > 256<<10 {
		return nil, fmt.Errorf("sectors per cluster %d", spc)
	}
	if p.reserved == 0 || p.numFATs == 0 || p.numFATs > 4 {
		return nil, fmt.Errorf("reserved sectors %d, FATs %d", p.reserved, p.numFATs)
	}
	if media := b[21]; media != 0xf0 && media < 0xf8 {
		return nil, fmt.Errorf("media byte 0x%02x", media)
	}
	if p.totalSectors == 0 {
		p.totalSectors = int64(binary.LittleEndian.Uint32(b[32:]))
	}
	fat32 := p.fatSectors == 0
	if fat32 {
		p.fatSectors = int64(binary.LittleEndian.Uint32(b[36:]))
		p.rootCluster = binary.LittleEndian.Uint32(b[44:])
	}
	rootSectors := (p.rootEntries*32 + p.bytesPerSector - 1) / p.bytesPerSector
	meta := p.reserved + p.numFATs*p.fatSectors + rootSectors
	if p.fatSectors == 0 || meta >= p.totalSectors {
		return nil, fmt.Errorf("FAT of %d sectors and %d reserved in a volume of %d sectors", p.fatSectors, p.reserved, p.totalSectors)
	}
	n := (p.totalSectors - meta) / p.sectorsPerCluster
	if n > 0x0ffffff5 {
		return nil, fmt.Errorf("%d clusters", n)
	}
	p.clusters = uint32(n)
	lab := 43
	switch {
	case n < 4085:
		p.kind = "fat12"
	case n < 65525:
		p.kind = "fat16"
	default:
		p.kind, lab = "fat32", 71
		if !fat32 || p.rootEntries != 0 {
			return nil, errors.New("FAT32 cluster count with a FAT12/16 layout")
		}
	}
	// The FAT must hold an entry for every cluster.
	bits := map[string]int64{"fat12": 12, "fat16": 16, "fat32": 32}[p.kind]
	if (int64(p.clusters)+2)*bits > p.fatSectors*p.bytesPerSector*8 {
		return nil, fmt.Errorf("FAT of %d sectors too small for %d clusters", p.fatSectors, p.clusters)
	}
	if b[lab-5] == 0x29 { // the extended boot signature says a serial and label follow
		p.label = strings.TrimRight(string(b[lab:lab+11]), " \x00")
		if p.label == "NO NAME" {
			p.label = ""
		}
	}
	return p, nil
}

type fatFS struct {
	r         io.ReaderAt
	size      int64
	b         *bpb
	cache     *pageCache
	fatOff    int64 // first FAT
	rootOff   int64 // FAT12/16 fixed root directory
	dataOff   int64 // cluster 2
	clusBytes int64
	// oem decodes 8.3 names and labels: they are bytes in the OEM code page
	// of the system that wrote them (CP437 unless the caller says).
	oem *charmap.Charmap
	// dirs holds decoded directories by path, so opening each file of
	// a directory does not read and decode the directory again.
	dirs *dirCache[string, *fatDir]
}

// fatDir is a decoded directory and an index of its live names, lower-cased.
type fatDir struct {
	ents  []fatEntry
	lower map[string]int // strings.ToLower(name) -> first live entry
}

func openFAT(r io.ReaderAt, size int64, oem *charmap.Charmap) (*fatFS, error) {
	s0 := make([]byte, 512)
	if _, err := readFull(r, size, s0, 0); err != nil {
		return nil, err
	}
	b, err := parseBPB(s0)
	if err != nil {
		return nil, fmt.Errorf("%w: boot sector: %v", ErrDamaged, err)
	}
	if oem == nil {
		oem = charmap.CodePage437
	}
	f := &fatFS{r: r, size: size, b: b, cache: newPageCache(r, size), oem: oem,
		dirs: newDirCache[string, *fatDir](dirCacheBytes)}
	bps := b.bytesPerSector
	f.fatOff = b.reserved * bps
	f.rootOff = f.fatOff + b.numFATs*b.fatSectors*bps
	f.dataOff = f.rootOff + (b.rootEntries*32+bps-1)/bps*bps
	f.clusBytes = b.sectorsPerCluster * bps
	if b.totalSectors*bps > size {
		return nil, fmt.Errorf("%w: boot sector claims %d bytes, the partition has %d", ErrDamaged, b.totalSectors*bps, size)
	}
	if b.kind == "fat32" && !f.validCluster(b.rootCluster) {
		return nil, fmt.Errorf("%w: root directory cluster %d out of range", ErrDamaged, b.rootCluster)
	}
	return f, nil
}

func (f *fatFS) Type() string { return f.b.kind }

func (f *fatFS) Label() string {
	// The root directory's volume label entry wins over the boot sector's.
	if raw, err := f.rootDir(context.Background()); err == nil {
		for i := 0; i+32 <= len(raw); i += 32 {
			e := raw[i : i+32]
			if e[0] == 0 {
				break
			}
			if e[0] != 0xe5 && e[11]&0x3f == 0x08 {
				return strings.TrimRight(oemString(f.oem, e[:11]), " ")
			}
		}
	}
	return f.b.label
}

func (f *fatFS) validCluster(c uint32) bool { return c >= 2 && c < f.b.clusters+2 }

// next returns the FAT entry of cluster c.
func (f *fatFS) next(c uint32) (uint32, error) {
	var b [4]byte
	switch f.b.kind {
	case "fat12":
		off := int64(c) * 3 / 2
		if err := f.cache.readAt(b[:2], f.fatOff+off); err != nil {
			return 0, err
		}
		v := uint32(binary.LittleEndian.Uint16(b[:]))
		if c&1 == 1 {
			v >>= 4
		}
		return v & 0xfff, nil
	case "fat16":
		if err := f.cache.readAt(b[:2], f.fatOff+int64(c)*2); err != nil {
			return 0, err
		}
		return uint32(binary.LittleEndian.Uint16(b[:])), nil
	}
	if err := f.cache.readAt(b[:], f.fatOff+int64(c)*4); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b[:]) & 0x0fffffff, nil
}

func (f *fatFS) isEOC(v uint32) bool {
	switch f.b.kind {
	case "fat12":
		return v >= 0xff8
	case "fat16":
		return v >= 0xfff8
	}
	return v >= 0x0ffffff8
}

// chainExtents follows the chain from cluster first for at most maxBytes
// (rounded up to whole clusters) and returns it as extents. A chain that
// ends early is an error when exact is set (a file must have the clusters
// its size needs); a chain that goes on is not followed further, and a
// chain that loops is an error. A chain can be millions of clusters long:
// ctx is checked as it goes.
func (f *fatFS) chainExtents(ctx context.Context, first uint32, maxBytes int64, exact bool) ([]Extent, error) {
	var ext []Extent
	need := (maxBytes + f.clusBytes - 1) / f.clusBytes
	c := first
	saved, power, steps := first, 1, 0
	for i := int64(0); i < need; i++ {
		if !f.validCluster(c) {
			if !exact && i > 0 && f.isEOC(c) {
				break
			}
			if f.isEOC(c) {
				return ext, fmt.Errorf("%w: cluster chain from %d ends after %d of %d clusters", ErrDamaged, first, i, need)
			}
			return ext, fmt.Errorf("%w: cluster chain from %d reaches invalid cluster 0x%x", ErrDamaged, first, c)
		}
		ext = appendExtent(ext, i*f.clusBytes, f.clusBytes, f.dataOff+int64(c-2)*f.clusBytes)
		if i+1 == need {
			break
		}
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return ext, err
			}
		}
		n, err := f.next(c)
		if err != nil {
			return ext, err
		}
		c = n
		// Brent's cycle detection: remember a cluster at each power of two
		// steps; meeting it again means the chain loops.
		if c == saved {
			return ext, fmt.Errorf("%w: cluster chain from %d loops back to cluster %d", ErrDamaged, first, c)
		}
		if steps++; steps == power {
			saved, power, steps = c, power*2, 0
		}
	}
	return ext, nil
}

// maxDirBytes is the largest FAT directory (65536 entries of 32 bytes).
const maxDirBytes = 65536 * 32

func (f *fatFS) rootDir(ctx context.Context) ([]byte, error) {
	if f.b.kind != "fat32" {
		b := make([]byte, f.b.rootEntries*32)
		_, err := readFull(f.r, f.size, b, f.rootOff)
		return b, err
	}
	return f.dirData(ctx, f.b.rootCluster)
}

// dirData reads a directory's cluster chain (at most maxDirBytes).
func (f *fatFS) dirData(ctx context.Context, first uint32) ([]byte, error) {
	ext, err := f.chainExtents(ctx, first, maxDirBytes, false)
	if err != nil {
		return nil, err
	}
	var n int64
	for _, e := range ext {
		n += e.Length
	}
	// One read per extent: a directory grown between files is fragmented,
	// and ctx is checked between the pieces.
	b := make([]byte, n)
	for _, e := range ext {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if _, err := readFull(f.r, f.size, b[e.Offset:e.Offset+e.Length], e.DiskOffset); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// fatEntry is a parsed short entry with its long name.
type fatEntry struct {
	Entry
	cluster uint32
}

// parseDir decodes 32-byte directory entries with VFAT long names; deleted
// entries (first byte 0xE5) are kept, marked.
func (f *fatFS) parseDir(raw []byte, dir string) []fatEntry {
	var out []fatEntry
	var lfn []uint16 // the long name gathered so far (parts come last first)
	var lfnSum byte
	var lfnOK, lfnDeleted bool
	for i := 0; i+32 <= len(raw) && len(out) < MaxEntries; i += 32 {
		e := raw[i : i+32]
		if e[0] == 0 {
			break
		}
		deleted := e[0] == 0xe5
		if e[11]&0x3f == 0x0f { // long name part
			// A live name starts with the part flagged 0x40; a deleted one
			// has lost its sequence byte, so any change of state restarts.
			if (!deleted && e[0]&0x40 != 0) || !lfnOK || deleted != lfnDeleted {
				lfn, lfnSum, lfnOK, lfnDeleted = nil, e[13], true, deleted
			} else if e[13] != lfnSum {
				lfnOK = false
				continue
			}
			part := make([]uint16, 0, 13+len(lfn))
			for _, o := range []int{1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30} {
				part = append(part, binary.LittleEndian.Uint16(e[o:]))
			}
			lfn = append(part, lfn...)
			continue
		}
		long := ""
		if lfnOK && len(lfn) > 0 && deleted == lfnDeleted && (deleted || lfnSum == shortSum(e[:11])) {
			for k, c := range lfn {
				if c == 0 {
					lfn = lfn[:k]
					break
				}
			}
			long = string(utf16.Decode(lfn))
		}
		lfn, lfnOK = nil, false
		if e[11]&0x08 != 0 { // volume label
			continue
		}
		name := long
		if name == "" {
			name = shortName(e, f.oem)
		}
		if name == "." || name == ".." || name == "" {
			continue
		}
		cl := uint32(binary.LittleEndian.Uint16(e[26:]))
		if f.b.kind == "fat32" {
			cl |= uint32(binary.LittleEndian.Uint16(e[20:])) << 16
		}
		isDir := e[11]&0x10 != 0
		en := fatEntry{cluster: cl, Entry: Entry{
			Name: name, Path: joinPath(dir, name), IsDir: isDir, Type: "file",
			Size:       int64(binary.LittleEndian.Uint32(e[28:])),
			CreateTime: dosTime(binary.LittleEndian.Uint16(e[16:]), binary.LittleEndian.Uint16(e[14:]), e[13]),
			AccessTime: dosTime(binary.LittleEndian.Uint16(e[18:]), 0, 0),
			ModTime:    dosTime(binary.LittleEndian.Uint16(e[24:]), binary.LittleEndian.Uint16(e[22:]), 0),
			Deleted:    deleted, ID: uint64(cl),
		}}
		if isDir {
			en.Type, en.Size = "dir", 0
		}
		out = append(out, en)
	}
	return out
}

// shortSum is the VFAT checksum of an 11-byte short name.
func shortSum(n []byte) byte {
	var s byte
	for _, c := range n {
		s = (s>>1 | s<<7) + c
	}
	return s
}

// shortName renders an 8.3 name, decoding its bytes with the OEM code page
// oem and honouring the lower-case flags Windows NT sets in byte 12.
func shortName(e []byte, oem *charmap.Charmap) string {
	base := bytes.TrimRight(e[:8], " ")
	ext := bytes.TrimRight(e[8:11], " ")
	var first string
	switch {
	case len(base) == 0:
	case e[0] == 0xe5:
		first = "_" // the first character of a deleted name is lost
	case e[0] == 0x05:
		first = oemString(oem, []byte{0xe5}) // 0xE5 stored as 0x05: 0xE5 marks deleted entries
	default:
		first = oemString(oem, base[:1])
	}
	b := first
	if len(base) > 1 {
		b += oemString(oem, base[1:])
	}
	x := oemString(oem, ext)
	if e[12]&0x08 != 0 {
		b = strings.ToLower(b)
	}
	if e[12]&0x10 != 0 {
		x = strings.ToLower(x)
	}
	if x != "" {
		return b + "." + x
	}
	return b
}

// oemString decodes b, one byte per character, with the code page cp.
func oemString(cp *charmap.Charmap, b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = cp.DecodeByte(c)
	}
	return string(r)
}

// dosTime decodes a FAT date and time (local time, no zone: shown as UTC).
func dosTime(d, t uint16, tenths byte) time.Time {
	if d == 0 {
		return time.Time{}
	}
	return time.Date(1980+int(d>>9), time.Month(d>>5&15), int(d&31), int(t>>11), int(t>>5&63), int(t&31)*2, 0, time.UTC).
		Add(time.Duration(tenths) * 10 * time.Millisecond)
}

// lookup resolves a path to its entry; the root is a synthetic directory.
func (f *fatFS) lookup(ctx context.Context, p string) (fatEntry, error) {
	cur := fatEntry{Entry: Entry{Name: "/", Path: "/", IsDir: true, Type: "dir"}}
	if f.b.kind == "fat32" {
		cur.cluster = f.b.rootCluster
	}
	for _, name := range splitPath(p) {
		if err := ctx.Err(); err != nil {
			return cur, err
		}
		d, err := f.dir(ctx, cur)
		if err != nil {
			return cur, err
		}
		found := false
		if i, ok := d.lower[strings.ToLower(name)]; ok && strings.EqualFold(d.ents[i].Name, name) {
			cur, found = d.ents[i], true
		} else {
			// Names equal under case folding but not under ToLower (a
			// few non-Latin letters): the slow way.
			for _, e := range d.ents {
				if !e.Deleted && strings.EqualFold(e.Name, name) {
					cur, found = e, true
					break
				}
			}
		}
		if !found {
			return cur, ErrNotFound
		}
	}
	return cur, nil
}

// dir returns directory d decoded, from the cache or read now and kept.
func (f *fatFS) dir(ctx context.Context, d fatEntry) (*fatDir, error) {
	if fd, ok := f.dirs.get(d.Path); ok {
		return fd, nil
	}
	es, err := f.list(ctx, d)
	if err != nil {
		return nil, err
	}
	fd := &fatDir{ents: es, lower: make(map[string]int, len(es))}
	var cost int64
	for i, e := range es {
		cost += entryCost(e.Name) + int64(len(e.Path)) + 64
		k := strings.ToLower(e.Name)
		if _, dup := fd.lower[k]; !e.Deleted && !dup {
			fd.lower[k] = i
		}
	}
	f.dirs.add(d.Path, fd, cost)
	return fd, nil
}

func (f *fatFS) list(ctx context.Context, d fatEntry) ([]fatEntry, error) {
	if !d.IsDir {
		return nil, ErrNotDir
	}
	var raw []byte
	var err error
	if d.Path == "/" {
		raw, err = f.rootDir(ctx)
	} else {
		raw, err = f.dirData(ctx, d.cluster)
	}
	if err != nil {
		return nil, err
	}
	return f.parseDir(raw, d.Path), nil
}

func (f *fatFS) readDir(ctx context.Context, p string) ([]Entry, error) {
	d, err := f.lookup(ctx, p)
	if err != nil {
		return nil, err
	}
	fd, err := f.dir(ctx, d)
	if err != nil {
		return nil, err
	}
	es := fd.ents
	out := make([]Entry, len(es))
	for i, e := range es {
		out[i] = e.Entry
		if e.Deleted {
			out[i].setRecovery(f.fatRecovery(e))
		}
	}
	if len(out) >= MaxEntries {
		return out, ErrTruncated
	}
	return out, nil
}

func (f *fatFS) stat(ctx context.Context, p string) (Entry, error) {
	e, err := f.lookup(ctx, p)
	return e.Entry, err
}

func (f *fatFS) open(ctx context.Context, p string) (fileImpl, error) {
	e, err := f.lookup(ctx, p)
	if err != nil {
		return nil, err
	}
	if e.IsDir {
		return nil, ErrIsDir
	}
	if e.Size == 0 {
		return &extentFile{r: f.r}, nil
	}
	ext, err := f.chainExtents(ctx, e.cluster, e.Size, true)
	if err != nil {
		return nil, err
	}
	return &extentFile{r: f.r, size: e.Size, ext: ext}, nil
}
