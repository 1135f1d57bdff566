//go:build linux

package volume

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// oracleAttr is an attribute as ntfsinfo -v -F dumps it, its pieces in
// several records joined.
type oracleAttr struct {
	typ       uint32
	name      string
	resident  bool
	flags     uint16
	size      int64
	alloc     int64
	init      int64
	runs      int
	firstLCN  int64
	records   []uint64
	lowestVCN int64
}

func (a oracleAttr) String() string {
	return fmt.Sprintf("0x%x %q resident=%v flags=0x%x size=%d alloc=%d init=%d runs=%d first=%d records=%v",
		a.typ, a.name, a.resident, a.flags, a.size, a.alloc, a.init, a.runs, a.firstLCN, a.records)
}

// oracleFile is what ntfsinfo -v -F says of a file.
type oracleFile struct {
	record uint64
	links  int
	attrs  []oracleAttr
	// from the first $STANDARD_INFORMATION and each $FILE_NAME
	dosAttrs uint32
	siTimes  string   // $STANDARD_INFORMATION's, to the second
	names    []string // "name namespace parent size alloc attrs times"
}

var (
	reInode   = regexp.MustCompile(`^Dumping Inode (\d+)`)
	reAttr    = regexp.MustCompile(`^Dumping attribute (\S+) \(0x([0-9a-f]+)\) from mft record (\d+)`)
	reField   = regexp.MustCompile(`^\s*([A-Za-z .]+?):?\s*\t+\s*(.*)$`)
	reRunRow  = regexp.MustCompile(`^\s+(0x[0-9a-f]+|-?\d+)\s+(\S+)\s+(0x[0-9a-f]+)\s*$`)
	reLeadNum = regexp.MustCompile(`^(-?(?:0x[0-9a-f]+|\d+))`)
)

// ntfsinfoFile runs ntfsinfo -v -F path and reads its dump.
func ntfsinfoFile(t *testing.T, img, path string) oracleFile {
	t.Helper()
	out := run(t, "", "ntfsinfo", "-v", "-F", path, img)
	var of oracleFile
	var cur *oracleAttr
	var pieces []oracleAttr
	var fnName, fnSpace string
	var fnParent, fnSize, fnAlloc int64
	var fnAttrs uint32
	var times []string
	inRuns := false
	flushName := func() {
		if fnName != "" {
			of.names = append(of.names, fmt.Sprintf("%s %s %d %d %d 0x%x %s", fnName, fnSpace, fnParent, fnSize, fnAlloc, fnAttrs, strings.Join(times, ",")))
		}
		fnName = ""
	}
	num := func(s string) int64 {
		m := reLeadNum.FindString(strings.TrimSpace(s))
		v, err := strconv.ParseInt(m, 0, 64)
		if err != nil {
			t.Fatalf("ntfsinfo: %q is not a number", s)
		}
		return v
	}
	for _, l := range strings.Split(out, "\n") {
		if m := reInode.FindStringSubmatch(l); m != nil {
			of.record, _ = strconv.ParseUint(m[1], 10, 64)
			continue
		}
		if m := reAttr.FindStringSubmatch(l); m != nil {
			flushName()
			times = nil
			typ, _ := strconv.ParseUint(m[2], 16, 32)
			rec, _ := strconv.ParseUint(m[3], 10, 64)
			pieces = append(pieces, oracleAttr{typ: uint32(typ), records: []uint64{rec}, firstLCN: -1})
			cur = &pieces[len(pieces)-1]
			inRuns = false
			continue
		}
		if inRuns {
			if m := reRunRow.FindStringSubmatch(l); m != nil {
				// A piece's dump shows the VCNs of the other pieces as
				// one <RL_NOT_MAPPED> row: no run. <HOLE> is a sparse run.
				if m[2] == "<RL_NOT_MAPPED>" {
					continue
				}
				cur.runs++
				if lcn, err := strconv.ParseInt(m[2], 0, 64); err == nil && lcn >= 0 && cur.firstLCN < 0 {
					cur.firstLCN = lcn
				}
				continue
			}
			inRuns = false
		}
		m := reField.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		k, v := strings.TrimSpace(m[1]), strings.TrimSpace(m[2])
		if cur == nil {
			if k == "Number of Hard Links" {
				of.links = int(num(v))
			}
			continue
		}
		switch k {
		case "Resident":
			cur.resident = v == "Yes"
		case "Attribute name":
			cur.name = strings.Trim(v, "'")
		case "Attribute flags":
			cur.flags = uint16(num(v))
		case "Lowest VCN":
			cur.lowestVCN = num(v)
		case "Data size", "Data Size":
			if cur.typ == attrFileName && k == "Data Size" {
				fnSize = num(v)
			} else if k == "Data size" {
				cur.size = num(v)
			}
		case "Allocated size":
			cur.alloc = num(v)
		case "Allocated Size":
			fnAlloc = num(v)
		case "Initialized size":
			cur.init = num(v)
		case "Runlist":
			inRuns = true
		case "File Creation Time", "File Altered Time", "MFT Changed Time", "Last Accessed Time":
			if cur.typ != attrStandardInfo && cur.typ != attrFileName {
				break
			}
			tm, err := time.Parse("Mon Jan _2 15:04:05 2006 MST", v)
			if err != nil {
				t.Fatalf("ntfsinfo: time %q: %v", v, err)
			}
			times = append(times, strconv.FormatInt(tm.Unix(), 10))
			if cur.typ == attrStandardInfo && len(times) == 4 && of.siTimes == "" {
				of.siTimes = strings.Join(times, ",")
			}
		case "File attributes":
			a := uint32(num(v[strings.LastIndexByte(v, '(')+1:]))
			if cur.typ == attrStandardInfo {
				of.dosAttrs = a
			} else {
				fnAttrs = a
			}
		}
		if cur.typ != attrFileName {
			continue // a directory's index entries have these fields too
		}
		switch k {
		case "Parent directory":
			fnParent = num(v)
		case "Namespace":
			fnSpace = v
		case "Filename":
			fnName = strings.Trim(v, "'")
		}
	}
	flushName()
	// Join the pieces of each non-resident attribute.
	idx := map[string]int{}
	for _, p := range pieces {
		if p.resident {
			p.alloc, p.init = 0, 0
			of.attrs = append(of.attrs, p)
			continue
		}
		k := fmt.Sprintf("%x/%s", p.typ, p.name)
		i, ok := idx[k]
		if !ok {
			idx[k] = len(of.attrs)
			of.attrs = append(of.attrs, p)
			continue
		}
		a := &of.attrs[i]
		if p.lowestVCN == 0 {
			p.runs += a.runs
			p.records = append(a.records, p.records...)
			*a = p
			continue
		}
		a.runs += p.runs
		if !slices.Contains(a.records, p.records[0]) {
			a.records = append(a.records, p.records[0])
		}
		if a.firstLCN < 0 {
			a.firstLCN = p.firstLCN
		}
	}
	return of
}

// checkAgainstNtfsinfo compares NTFSFile of path with ntfsinfo's dump.
func checkAgainstNtfsinfo(t *testing.T, fsys *FS, img, path string, volOff int64) *NTFSFile {
	t.Helper()
	got, err := fsys.NTFSFile(path)
	if err != nil {
		t.Fatalf("NTFSFile %s: %v", path, err)
	}
	want := ntfsinfoFile(t, img, path)
	if got.Record != want.record || got.HardLinks != want.links {
		t.Errorf("%s: record %d with %d links; ntfsinfo: %d with %d", path, got.Record, got.HardLinks, want.record, want.links)
	}
	if got.DOSAttributes != want.dosAttrs {
		t.Errorf("%s: DOS attributes 0x%x; ntfsinfo 0x%x", path, got.DOSAttributes, want.dosAttrs)
	}
	secs := func(ts NTFSTimes) string {
		var out []string
		for _, tm := range []time.Time{ts.Created, ts.Modified, ts.Changed, ts.Accessed} {
			if tm.IsZero() { // unset: a FILETIME of 0, 1601-01-01 to ntfsinfo
				tm = time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC)
			}
			out = append(out, strconv.FormatInt(tm.Unix(), 10))
		}
		return strings.Join(out, ",")
	}
	if s := secs(got.Times); s != want.siTimes {
		t.Errorf("%s: $STANDARD_INFORMATION times %s; ntfsinfo %s", path, s, want.siTimes)
	}
	var gotNames []string
	for _, n := range got.Names {
		gotNames = append(gotNames, fmt.Sprintf("%s %s %d %d %d 0x%x %s", n.Name, n.Namespace, n.Parent, n.Size, n.Allocated, n.DOSAttributes, secs(n.Times)))
	}
	wantNames := slices.Clone(want.names)
	for i, n := range wantNames { // ntfsinfo says "Win32 & DOS" as "Win32 & DOS", POSIX as POSIX
		wantNames[i] = strings.Replace(n, "Win32&DOS", "Win32 & DOS", 1)
	}
	slices.Sort(gotNames)
	slices.Sort(wantNames)
	if !slices.Equal(gotNames, wantNames) {
		t.Errorf("%s: names %q; ntfsinfo %q", path, gotNames, wantNames)
	}
	var ga, wa []string
	for _, a := range got.Attributes {
		recs := a.Records
		if recs == nil {
			recs = []uint64{got.Record}
		}
		first := a.FirstCluster
		if a.Resident {
			first = -1
		}
		ga = append(ga, oracleAttr{typ: a.Type, name: a.Name, resident: a.Resident, flags: a.Flags, size: a.Size, alloc: a.Allocated,
			init: a.Initialized, runs: a.Runs, firstLCN: first, records: recs}.String())
		if a.TypeName == "" || strings.HasPrefix(a.TypeName, "unknown") {
			t.Errorf("%s: attribute 0x%x has no type name", path, a.Type)
		}
	}
	for _, a := range want.attrs {
		wa = append(wa, a.String())
	}
	slices.Sort(ga)
	slices.Sort(wa)
	if !slices.Equal(ga, wa) {
		t.Errorf("%s: attributes\n%s\nntfsinfo:\n%s", path, strings.Join(ga, "\n"), strings.Join(wa, "\n"))
	}
	// The record is where the image holds a FILE record of that number.
	raw, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	if at := int64(findRecord(t, raw, got.Record)); got.Offset != volOff+at {
		t.Errorf("%s: record at 0x%x; the image has it at 0x%x", path, got.Offset, volOff+at)
	}
	return got
}

// TestNTFSFileInfo: a file's MFT record facts (attributes with sizes,
// flags and runs; DOS attributes; both sets of times; streams; where the
// record is) equal what ntfsinfo dumps and what a ntfs-3g mount gives as
// system.ntfs_times, system.ntfs_attrib and, with streams_interface=xattr,
// user.* streams; on files made by mkntfs + ntfscp, set through ntfs-3g,
// and the aged volume's compressed, sparse and fragmented files.
func TestNTFSFileInfo(t *testing.T) {
	for _, tool := range []string{"mkntfs", "ntfscp", "ntfsinfo", "ntfs-3g", "umount"} {
		requireTool(t, tool)
	}
	img := mkNTFS(t, tree{"plain.txt": []byte("resident\n"), "big.bin": randBytes(5, 300000)}, tree{"plain.txt:first": []byte("one stream")}, 16)
	mnt := filepath.Join(t.TempDir(), "mnt")
	os.Mkdir(mnt, 0o755)
	if _, err := sh("ntfs-3g", "-o", "streams_interface=xattr", img, mnt); err != nil {
		t.Skipf("mounting with ntfs-3g (FUSE, needs root): %v", err)
	}
	// Times with 100 ns parts, distinct: created, modified, accessed, and
	// the record changed (ntfs-3g sets that itself); DOS bits
	// read-only|hidden|system|archive; a second stream; a sparse file.
	plain := filepath.Join(mnt, "plain.txt")
	ft := func(tm time.Time) uint64 { return uint64(tm.Unix()+11644473600)*1e7 + uint64(tm.Nanosecond()/100) }
	setTimes := make([]byte, 32)
	tms := []time.Time{time.Date(2001, 2, 3, 4, 5, 6, 1234500, time.UTC), time.Date(2002, 3, 4, 5, 6, 7, 7654300, time.UTC), time.Date(2003, 4, 5, 6, 7, 8, 100, time.UTC)}
	for i, tm := range tms {
		binary.LittleEndian.PutUint64(setTimes[8*i:], ft(tm))
	}
	err := syscall.Setxattr(plain, "system.ntfs_times", setTimes[:24], 0)
	if err == nil {
		err = syscall.Setxattr(plain, "system.ntfs_attrib", []byte{0x27, 0, 0, 0}, 0)
	}
	if err == nil {
		err = syscall.Setxattr(plain, "user.second", []byte("the second stream, longer"), 0)
	}
	if err == nil {
		var f *os.File
		if f, err = os.Create(filepath.Join(mnt, "holes.bin")); err == nil {
			f.WriteAt([]byte("end"), 5<<20)
			f.WriteAt([]byte("start"), 0)
			err = f.Close()
		}
	}
	if uerr := syscall.Unmount(mnt, 0); err == nil {
		err = uerr
	}
	if err != nil {
		t.Fatal(err)
	}
	// The oracle's own reading, read-only.
	if _, err := sh("ntfs-3g", "-o", "ro,streams_interface=xattr", img, mnt); err != nil {
		t.Fatal(err)
	}
	oracleTimes := make([]byte, 32)
	oracleAttrib := make([]byte, 4)
	_, err = syscall.Getxattr(plain, "system.ntfs_times", oracleTimes)
	if err == nil {
		_, err = syscall.Getxattr(plain, "system.ntfs_attrib", oracleAttrib)
	}
	streams := map[string]int{}
	if err == nil {
		lb := make([]byte, 4096)
		var n int
		n, err = syscall.Listxattr(plain, lb)
		for _, name := range strings.Split(string(lb[:max(n, 0)]), "\x00") {
			if s, ok := strings.CutPrefix(name, "user."); ok && err == nil {
				var k int
				k, err = syscall.Getxattr(plain, name, nil)
				streams[s] = k
			}
		}
	}
	syscall.Unmount(mnt, 0)
	if err != nil {
		t.Fatal(err)
	}

	b, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	// As a partition 1 MiB into a disk, so that the record's offset is
	// the disk's, not the volume's.
	const volOff = 1 << 20
	disk := append(make([]byte, volOff), b...)
	fsys, err := OpenFS(bytes.NewReader(disk), volOff, int64(len(b)), 512)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/plain.txt", "/big.bin", "/holes.bin", "/$MFT", "/$Extend/$ObjId", "/"} {
		checkAgainstNtfsinfo(t, fsys, img, p, volOff)
	}

	got, err := fsys.NTFSFile("/plain.txt:second")
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"created", "modified", "accessed", "changed"} {
		want := filetime(binary.LittleEndian.Uint64(oracleTimes[8*i:]))
		have := []time.Time{got.Times.Created, got.Times.Modified, got.Times.Accessed, got.Times.Changed}[i]
		if !have.Equal(want) || want.IsZero() {
			t.Errorf("$STANDARD_INFORMATION %s: %v; ntfs-3g %v", name, have, want)
		}
		if i < 3 && !have.Equal(tms[i]) {
			t.Errorf("$STANDARD_INFORMATION %s: %v; set to %v", name, have, tms[i])
		}
	}
	if a := binary.LittleEndian.Uint32(oracleAttrib); got.DOSAttributes != a || strings.Join(got.DOSFlags, ",") != "read-only,hidden,system,archive" {
		t.Errorf("DOS attributes 0x%x %q; ntfs-3g 0x%x", got.DOSAttributes, got.DOSFlags, a)
	}
	have := map[string]int{}
	for _, s := range got.Streams {
		have[s.Name] = int(s.Size)
	}
	if fmt.Sprint(have) != fmt.Sprint(streams) || len(streams) != 2 {
		t.Errorf("streams %v; ntfs-3g %v", have, streams)
	}
	if len(got.Names) != 1 || got.Names[0].Name != "plain.txt" {
		t.Errorf("$FILE_NAME %+v, want plain.txt's only", got.Names)
	}
	if got.Metadata || got.Directory {
		t.Errorf("/plain.txt: metadata %v, directory %v", got.Metadata, got.Directory)
	}
	// Resident values: where they lie on the disk, inside the record, is
	// where their bytes are (but at the update sequence's places).
	for _, c := range []struct{ stream, want string }{{"", "resident\n"}, {"second", "the second stream, longer"}, {"first", "one stream"}} {
		d := findAttr(got, attrData, c.stream)
		if d == nil || !d.Resident || d.ValueOffset <= got.Offset || d.ValueOffset+d.Size > got.Offset+got.RecordSize {
			t.Errorf("/plain.txt:%s: $DATA %+v, want resident inside record at 0x%x", c.stream, d, got.Offset)
			continue
		}
		// An open file of the stream says the same place.
		name := "/plain.txt"
		if c.stream != "" {
			name += ":" + c.stream
		}
		if of, err := fsys.OpenFile(name); err != nil {
			t.Error(err)
		} else if r, ok := of.Resident(); !ok || r != (Resident{Record: got.Record, Offset: d.ValueOffset, Length: d.Size}) {
			t.Errorf("%s: Resident() %+v %v; NTFSFile says record %d, 0x%x, %d bytes", name, r, ok, got.Record, d.ValueOffset, d.Size)
		}
		on := disk[d.ValueOffset : d.ValueOffset+d.Size]
		for i := range on {
			if (d.ValueOffset-got.Offset+int64(i))%512 < 510 && on[i] != c.want[i] {
				t.Errorf("/plain.txt:%s: disk 0x%x holds %q, want %q", c.stream, d.ValueOffset, on, c.want)
				break
			}
		}
	}
	if d := findAttr(got, attrStandardInfo, ""); d == nil || d.ValueOffset == 0 {
		t.Errorf("$STANDARD_INFORMATION %+v: no value offset", d)
	}
	hb, _ := fsys.NTFSFile("/holes.bin")
	if d := findAttr(hb, attrData, ""); d != nil && d.ValueOffset != 0 {
		t.Errorf("/holes.bin: a non-resident $DATA with value offset 0x%x", d.ValueOffset)
	}
	if of, err := fsys.OpenFile("/holes.bin"); err != nil {
		t.Error(err)
	} else if r, ok := of.Resident(); ok {
		t.Errorf("/holes.bin: non-resident, but Resident() %+v", r)
	}
	if d := findAttr(hb, attrData, ""); d == nil || !d.Sparse || d.Runs < 2 {
		t.Errorf("/holes.bin: $DATA %+v, want sparse with several runs", d)
	}
	if m, _ := fsys.NTFSFile("/$MFT"); m == nil || !m.Metadata || m.Record != 0 {
		t.Errorf("/$MFT: %+v, want record 0, metadata", m)
	}

	// The aged volume: a compressed file, a file whose $DATA is spread
	// over several records, a directory whose index is.
	v := agedNTFS(t)
	ab, err := os.ReadFile(v.Raw)
	if err != nil {
		t.Fatal(err)
	}
	afs, err := OpenFS(bytes.NewReader(ab), 0, int64(len(ab)), 512)
	if err != nil {
		t.Fatal(err)
	}
	c := checkAgainstNtfsinfo(t, afs, v.Raw, "/comp/c.bin", 0)
	if d := findAttr(c, attrData, ""); d == nil || !d.Compressed {
		t.Errorf("/comp/c.bin: $DATA %+v, want compressed", d)
	}
	fr := checkAgainstNtfsinfo(t, afs, v.Raw, "/frag.bin", 0)
	if d := findAttr(fr, attrData, ""); d == nil || len(d.Records) < 2 || len(fr.ExtensionRecords) == 0 {
		t.Errorf("/frag.bin: $DATA %+v in extension records %v, want several records", d, fr.ExtensionRecords)
	}
	checkAgainstNtfsinfo(t, afs, v.Raw, "/big", 0)

	// Not NTFS: said so.
	ext := mkExt(t, "ext4", tree{"a": []byte("a")}, 8)
	eb, _ := os.ReadFile(ext)
	efs, err := OpenFS(bytes.NewReader(eb), 0, int64(len(eb)), 512)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := efs.NTFSFile("/a"); err == nil || !strings.Contains(err.Error(), "NTFS only") {
		t.Errorf("NTFSFile on ext4: %v", err)
	}
}

func findAttr(f *NTFSFile, typ uint32, name string) *NTFSAttr {
	if f == nil {
		return nil
	}
	for i := range f.Attributes {
		if f.Attributes[i].Type == typ && f.Attributes[i].Name == name {
			return &f.Attributes[i]
		}
	}
	return nil
}

// TestNTFSMetadataFlag: listings mark NTFS's own files (records below 16
// and everything under $Extend) and nothing else, on the root as ntfsls
// lists it with its system files.
func TestNTFSMetadataFlag(t *testing.T) {
	requireTool(t, "ntfsls")
	img := mkNTFS(t, tree{"user.txt": []byte("u"), "$Fake.txt": []byte("a user file named like a system one")}, nil, 16)
	b, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	fsys, err := OpenFS(bytes.NewReader(b), 0, int64(len(b)), 512)
	if err != nil {
		t.Fatal(err)
	}
	// ntfsls -i gives each name's record: the oracle for "below 16".
	rec := map[string]uint64{}
	for _, l := range strings.Split(run(t, "", "ntfsls", "-a", "-s", "-i", "-p", "/", img), "\n") {
		f := strings.Fields(l)
		if len(f) == 2 {
			n, _ := strconv.ParseUint(f[0], 10, 64)
			rec[f[1]] = n
		}
	}
	es, err := fsys.List("/")
	if err != nil {
		t.Fatal(err)
	}
	var meta, user []string
	for _, e := range es {
		r, ok := rec[e.Name]
		if !ok {
			t.Errorf("%s: not in ntfsls's listing", e.Name)
		}
		if e.Metadata != (r < 16) {
			t.Errorf("%s (record %d): metadata %v", e.Name, r, e.Metadata)
		}
		if e.Metadata {
			meta = append(meta, e.Name)
		} else {
			user = append(user, e.Name)
		}
	}
	want := []string{"$AttrDef", "$BadClus", "$Bitmap", "$Boot", "$Extend", "$LogFile", "$MFT", "$MFTMirr", "$Secure", "$UpCase", "$Volume"}
	if strings.Join(meta, " ") != strings.Join(want, " ") {
		t.Errorf("metadata %q, want %q", meta, want)
	}
	if strings.Join(user, " ") != "$Fake.txt user.txt" {
		t.Errorf("user files %q", user)
	}
	ext, err := fsys.List("/$Extend")
	if err != nil || len(ext) == 0 {
		t.Fatalf("/$Extend: %v, %v", ext, err)
	}
	for _, e := range ext {
		if !e.Metadata || e.ID < 16 {
			t.Errorf("%s (record %d): metadata %v, want true (under $Extend, an ordinary record number)", e.Path, e.ID, e.Metadata)
		}
	}
	if e, err := fsys.Lookup("/$BadClus:$Bad"); err != nil || !e.Metadata {
		t.Errorf("/$BadClus:$Bad: %+v, %v, want metadata", e, err)
	}
	if e, err := fsys.Lookup("/"); err != nil || e.Metadata {
		t.Errorf("/: %+v, %v: the root is no metadata entry", e, err)
	}
}
