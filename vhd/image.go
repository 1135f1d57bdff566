package vhd

import (
	"context"
	"fmt"
	"io"

	"github.com/google/uuid"
)

// Image is an opened VHD file: an io.ReaderAt over its virtual disk, safe
// for concurrent use. Info describes what was found in the file.
type Image struct {
	name     string
	file     io.ReaderAt
	fileSize int64

	end, copy0 *footerCopy // the footer at the end and the copy at 0 (nil if not looked at)
	f          *footer     // the footer in use
	using      *footerCopy
	dataEnd    int64 // where the end footer begins: blocks must end before it

	hdr        *dynHeader // nil for a fixed disk
	bat        *bat
	blockSize  int64
	blocks     int64 // BAT entries the disk uses
	bitmapSize int64 // bytes of a block's sector bitmap, sector padded
	// structures are the file ranges blocks must not overlap.
	structures []namedRange

	parent  *Image
	level   int         // 0 for the opened file, k for its k-th parent
	missing *ChainError // the parent not found, for a partial chain

	zeroBad bool // set on the copy ZeroBad returns
}

type namedRange struct {
	name     string
	off, len int64
}

// Size returns the virtual disk size in bytes: the footer's Current Size.
func (img *Image) Size() int64 { return int64(img.f.CurrentSize) }

// Type returns "fixed", "dynamic" or "differencing".
func (img *Image) Type() string { return typeName(img.f.DiskType) }

// Chain returns the image and its resolved parents, nearest first.
func (img *Image) Chain() []*Image {
	var out []*Image
	for p := img; p != nil; p = p.parent {
		out = append(out, p)
	}
	return out
}

// File returns the underlying reader of chain level k (0 = this image),
// its size and name, for callers that execute plans themselves.
func (img *Image) File(k int) (io.ReaderAt, int64, string) {
	c := img.Chain()
	if k < 0 || k >= len(c) {
		return nil, 0, ""
	}
	return c[k].file, c[k].fileSize, c[k].name
}

// identity is the disk's Unique Id, which a child's Parent Unique ID names.
func (img *Image) identity() uuid.UUID { return img.f.UniqueID }

func (img *Image) differencing() bool { return img.f.DiskType == typeDifferencing }

func (img *Image) describe() string {
	if img.name != "" {
		return img.name
	}
	return "the " + img.Type() + " disk"
}

func openFile(ctx context.Context, r io.ReaderAt, size int64, name string) (*Image, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if size < 0 {
		return nil, fmt.Errorf("vhd: negative file size %d", size)
	}
	img := &Image{name: name, file: r, fileSize: size}
	var err error
	if img.end, img.copy0, img.using, img.dataEnd, err = footers(r, size); err != nil {
		return nil, err
	}
	img.f = &img.using.F
	if img.f.DiskType == typeFixed {
		if int64(img.f.CurrentSize) > img.dataEnd {
			return nil, formatErr(img.using.Name, img.using.Offset+48, "Current Size", "larger than the data before the footer",
				fmt.Sprintf("%d, data %d", img.f.CurrentSize, img.dataEnd))
		}
		return img, nil
	}
	img.hdr, err = readHeader(r, int64(img.f.DataOffset), img.dataEnd, img.Size())
	if err != nil {
		return nil, err
	}
	h := img.hdr
	img.blockSize = int64(h.BlockSize)
	img.blocks = (img.Size() + img.blockSize - 1) / img.blockSize
	img.bitmapSize = ((img.blockSize/sectorSize+7)/8 + sectorSize - 1) / sectorSize * sectorSize
	img.bat = &bat{r: r, off: int64(h.TableOffset), entries: img.blocks}
	img.structures = []namedRange{
		{"footer copy", 0, footerSize},
		{"dynamic header", h.Offset, headerSize},
		{"BAT", int64(h.TableOffset), h.batLength(img.dataEnd)},
	}
	if img.differencing() {
		if err := h.readLocators(r, img.dataEnd); err != nil {
			return nil, err
		}
		for _, l := range h.Locators {
			if l.used() && l.Err == nil {
				img.structures = append(img.structures, namedRange{l.name() + " data", int64(l.DataOffset), int64(l.Length)})
			}
		}
	}
	return img, nil
}
