/* Only the header matters: it declares LLVMFuzzerRunDriver for tls-fuzz. */
#include "CLibFuzzer.h"
