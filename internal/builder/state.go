package builder

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// PayloadState is the state of a payload block BAT entry (MS-VHDX 2.5.1.1).
type PayloadState uint8

// Payload BAT entry states (MS-VHDX 2.5.1.1). Values 4 and 5 are reserved.
const (
	PayloadNotPresent       PayloadState = 0 // PAYLOAD_BLOCK_NOT_PRESENT
	PayloadUndefined        PayloadState = 1 // PAYLOAD_BLOCK_UNDEFINED
	PayloadZero             PayloadState = 2 // PAYLOAD_BLOCK_ZERO
	PayloadUnmapped         PayloadState = 3 // PAYLOAD_BLOCK_UNMAPPED
	PayloadFullyPresent     PayloadState = 6 // PAYLOAD_BLOCK_FULLY_PRESENT
	PayloadPartiallyPresent PayloadState = 7 // PAYLOAD_BLOCK_PARTIALLY_PRESENT
)

// Sector bitmap BAT entry states (MS-VHDX 2.5.1.2). Values 1-5 and 7 are
// reserved.
const (
	SectorBitmapNotPresent uint8 = 0 // SB_BLOCK_NOT_PRESENT
	SectorBitmapPresent    uint8 = 6 // SB_BLOCK_PRESENT
)

var stateNames = map[PayloadState]string{
	PayloadNotPresent:       "NOT_PRESENT",
	PayloadUndefined:        "UNDEFINED",
	PayloadZero:             "ZERO",
	PayloadUnmapped:         "UNMAPPED",
	PayloadFullyPresent:     "FULLY_PRESENT",
	PayloadPartiallyPresent: "PARTIALLY_PRESENT",
}

// String returns the spec name without the PAYLOAD_BLOCK_ prefix, or the
// number for reserved values.
func (s PayloadState) String() string {
	if n, ok := stateNames[s]; ok {
		return n
	}
	return strconv.Itoa(int(s))
}

// UnmarshalJSON accepts either the numeric state or its name, with or
// without the PAYLOAD_BLOCK_ prefix, in any case (e.g. 6, "FULLY_PRESENT",
// "payload_block_zero").
func (s *PayloadState) UnmarshalJSON(b []byte) error {
	var n uint8
	if err := json.Unmarshal(b, &n); err == nil {
		if n > 7 {
			return fmt.Errorf("builder: payload state %d out of range 0-7", n)
		}
		*s = PayloadState(n)
		return nil
	}
	var name string
	if err := json.Unmarshal(b, &name); err != nil {
		return fmt.Errorf("builder: payload state must be a number or a name: %s", b)
	}
	want := strings.TrimPrefix(strings.ToUpper(name), "PAYLOAD_BLOCK_")
	for st, n := range stateNames {
		if n == want {
			*s = st
			return nil
		}
	}
	return fmt.Errorf("builder: unknown payload state %q", name)
}
