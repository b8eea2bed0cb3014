package runtime

/*
#include <locale.h>
#include <stdlib.h>

static int kiln_locale_available(const char *name) {
	locale_t l = newlocale(LC_ALL_MASK, name, (locale_t)0);
	if (l == (locale_t)0) {
		return 0;
	}
	freelocale(l);
	return 1;
}
*/
import "C"

import "unsafe"

// localeAvailable reports whether the C library can build the named locale,
// as ONNX Runtime's StringNormalizer will try to.
func localeAvailable(name string) bool {
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	return C.kiln_locale_available(cs) != 0
}
