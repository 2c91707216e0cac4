// Page checksums (XXH3-64).
#include "bufferpool/page.h"

#include <xxhash.h>

namespace ringdb {

uint64_t PageChecksum(const char* page, uint32_t page_size) {
  // Covers everything after the checksum field, page id and LSN included.
  return XXH3_64bits(page + sizeof(uint64_t), page_size - sizeof(uint64_t));
}

}  // namespace ringdb
