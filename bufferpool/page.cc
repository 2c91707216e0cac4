// Page checksums (XXH3-64) and printing an Lsn.
#include "bufferpool/page.h"

#include <xxhash.h>

#include <ostream>

namespace ringdb {

uint64_t PageChecksum(const char* page, uint32_t page_size) {
  // Covers everything after the checksum field, page id and LSN included.
  return XXH3_64bits(page + sizeof(uint64_t), page_size - sizeof(uint64_t));
}

std::ostream& operator<<(std::ostream& os, Lsn lsn) { return os << lsn.value; }

}  // namespace ringdb
