package volume

import (
	"sort"
	"strings"

	"golang.org/x/text/encoding/charmap"
)

// oemCodePages are the single-byte code pages DOS and Windows used for
// FAT 8.3 names, by the names people give them ("cp850").
var oemCodePages = map[string]*charmap.Charmap{
	"cp437": charmap.CodePage437, "cp850": charmap.CodePage850, "cp852": charmap.CodePage852,
	"cp855": charmap.CodePage855, "cp858": charmap.CodePage858, "cp860": charmap.CodePage860,
	"cp862": charmap.CodePage862, "cp863": charmap.CodePage863, "cp865": charmap.CodePage865,
	"cp866": charmap.CodePage866, "cp874": charmap.Windows874, "cp1250": charmap.Windows1250,
	"cp1251": charmap.Windows1251, "cp1252": charmap.Windows1252,
}

// CodePage returns the OEM code page named name ("cp437", "cp850", "850";
// case does not matter) for FSOptions.CodePage.
func CodePage(name string) (*charmap.Charmap, bool) {
	n := strings.ToLower(strings.TrimSpace(name))
	if !strings.HasPrefix(n, "cp") {
		n = "cp" + n
	}
	cp, ok := oemCodePages[n]
	return cp, ok
}

// CodePages lists the names CodePage knows, sorted.
func CodePages() []string {
	var ns []string
	for n := range oemCodePages {
		ns = append(ns, n)
	}
	sort.Slice(ns, func(i, j int) bool { return len(ns[i]) < len(ns[j]) || len(ns[i]) == len(ns[j]) && ns[i] < ns[j] })
	return ns
}
