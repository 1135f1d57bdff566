package volume

// NTFS reparse points and Interix links: what makes a file a link, or its
// bytes live elsewhere.
//
// A $REPARSE_POINT attribute (type 0xC0) holds a REPARSE_DATA_BUFFER: a
// 32-bit tag, a 16-bit data length, 2 reserved bytes, then tag-specific
// data ([MS-FSCC] 2.1.2). The tags decoded here:
//
//   - 0xA000000C symbolic link ([MS-FSCC] 2.1.2.4): substitute and print
//     names (UTF-16LE, offsets from the path buffer) and a flags word whose
//     bit 0 marks a target relative to the link's folder;
//   - 0xA0000003 mount point, a "junction" ([MS-FSCC] 2.1.2.5): the same
//     without the flags word, always absolute;
//   - 0xA000001D LX symlink, made by WSL: a 32-bit version (2) and the
//     target in UTF-8, a POSIX path;
//   - 0x80000017 WOF, Windows 10's "CompactOS" compression: a
//     WOF_EXTERNAL_INFO (version, provider) and for the file provider
//     (2) a version and the algorithm; the compressed bytes are in the
//     "WofCompressedData" stream and the unnamed $DATA is sparse.
//
// Interix (Services for Unix, and what ntfs-3g makes for `ln -s`) links
// are plain files with the system attribute whose data is "IntxLNK\x01"
// followed by the target in UTF-16LE.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/vhdxview/vhdxview/internal/utf16le"
)

const (
	attrReparsePoint = 0xc0

	reparseTagMountPoint = 0xa0000003
	reparseTagSymlink    = 0xa000000c
	reparseTagLXSymlink  = 0xa000001d
	reparseTagWOF        = 0x80000017

	// maxReparse is the largest reparse buffer NTFS stores (16 KiB).
	maxReparse = 16 << 10

	fileAttrSystem = 0x0004 // FILE_ATTRIBUTE_SYSTEM, in $STANDARD_INFORMATION

	interixMagic = "IntxLNK\x01"
	// maxInterix bounds the file read to see whether it is an Interix
	// link: the magic and a target of up to 4,096 UTF-16 units.
	maxInterix = len(interixMagic) + 2*4096
)

// wofAlgorithms names the file provider's algorithms by number.
var wofAlgorithms = []string{"XPRESS4K", "LZX", "XPRESS8K", "XPRESS16K"}

// reparse is a decoded reparse point.
type reparse struct {
	tag uint32
	// kind says what the point is, for people: "symbolic link",
	// "junction", "WSL symbolic link", "WOF-compressed (LZX)", or the tag.
	kind string
	// target is a link's target as Windows or WSL shows it: the print
	// name ("C:\Users", "..\docs\a.txt") or the POSIX path.
	target string
	// relative: target is relative to the link's folder.
	relative bool
	// link: the point makes the file a link (target is set).
	link bool
}

// parseReparse decodes a REPARSE_DATA_BUFFER. Tags it does not know are
// named by number; a known tag whose data is short or out of bounds is an
// error.
func parseReparse(b []byte) (reparse, error) {
	if len(b) < 8 {
		return reparse{}, fmt.Errorf("reparse point of %d bytes", len(b))
	}
	rp := reparse{tag: binary.LittleEndian.Uint32(b)}
	n := int(binary.LittleEndian.Uint16(b[4:]))
	if 8+n > len(b) {
		return rp, fmt.Errorf("reparse tag 0x%08x: %d data bytes in a %d-byte attribute", rp.tag, n, len(b))
	}
	d := b[8 : 8+n]
	switch rp.tag {
	case reparseTagSymlink, reparseTagMountPoint:
		rp.kind, rp.link = "symbolic link", true
		head := 12
		if rp.tag == reparseTagMountPoint {
			rp.kind, head = "junction", 8
		}
		if len(d) < head {
			return rp, fmt.Errorf("%s: %d data bytes", rp.kind, len(d))
		}
		name := func(at int) (string, error) {
			off, ln := int(binary.LittleEndian.Uint16(d[at:])), int(binary.LittleEndian.Uint16(d[at+2:]))
			if off%2 != 0 || ln%2 != 0 || head+off+ln > len(d) {
				return "", fmt.Errorf("%s: name at %d, %d bytes, in a %d-byte path buffer", rp.kind, off, ln, len(d)-head)
			}
			return utf16le.Decode(d[head+off : head+off+ln]), nil
		}
		sub, err := name(0)
		if err != nil {
			return rp, err
		}
		print, err := name(4)
		if err != nil {
			return rp, err
		}
		if rp.tag == reparseTagSymlink {
			rp.relative = binary.LittleEndian.Uint32(d[8:])&1 != 0
		}
		// The print name is what Windows shows; the substitute name is
		// the NT path ("\??\C:\..."), used when no print name was kept.
		rp.target = print
		if rp.target == "" {
			rp.target = strings.TrimPrefix(sub, `\??\`)
		}
	case reparseTagLXSymlink:
		rp.kind, rp.link = "WSL symbolic link", true
		if len(d) < 4 {
			return rp, fmt.Errorf("%s: %d data bytes", rp.kind, len(d))
		}
		if !utf8.Valid(d[4:]) {
			return rp, fmt.Errorf("%s: target is not UTF-8", rp.kind)
		}
		rp.target = string(d[4:])
		rp.relative = !strings.HasPrefix(rp.target, "/")
	case reparseTagWOF:
		rp.kind = "WOF-compressed"
		if len(d) >= 16 && binary.LittleEndian.Uint32(d[4:]) == 2 { // the file provider
			if a := binary.LittleEndian.Uint32(d[12:]); int(a) < len(wofAlgorithms) {
				rp.kind += " (" + wofAlgorithms[a] + ")"
			}
		}
	default:
		rp.kind = fmt.Sprintf("reparse point 0x%08x", rp.tag)
	}
	return rp, nil
}

// reparseOf decodes f's $REPARSE_POINT; ok is false when it has none.
func (n *ntfsFS) reparseOf(f *mftFile) (rp reparse, ok bool, err error) {
	a := f.attr(attrReparsePoint, "")
	if a == nil {
		return reparse{}, false, nil
	}
	v, err := n.smallValue(f, a, maxReparse)
	if err != nil {
		return reparse{}, true, fmt.Errorf("MFT record %d: $REPARSE_POINT: %v", f.num, err)
	}
	rp, err = parseReparse(v)
	if err != nil {
		return rp, true, fmt.Errorf("MFT record %d: $REPARSE_POINT: %v", f.num, err)
	}
	return rp, true, nil
}

// interixTarget reads the target of an Interix link: a system file of at
// most maxInterix bytes whose data starts with the magic.
func (n *ntfsFS) interixTarget(f *mftFile, attrs uint32, size int64) (string, bool) {
	if attrs&fileAttrSystem == 0 || size < int64(len(interixMagic)) || size > int64(maxInterix) || size%2 != 0 {
		return "", false
	}
	s, ok := n.stream(f, attrData, "")
	if !ok || s.damage() != nil || s.flags&(attrCompressedMask|attrEncrypted) != 0 {
		return "", false
	}
	b := make([]byte, size)
	if s.resident {
		copy(b, s.value)
	} else if min(s.init, s.size) < size || n.readStream(s, b, 0) != nil {
		return "", false
	}
	if !bytes.HasPrefix(b, []byte(interixMagic)) {
		return "", false
	}
	return utf16le.Decode(b[len(interixMagic):]), true
}
