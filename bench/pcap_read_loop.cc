// pcap_read_loop FILE: the bare libpcap read ceiling bench/run.sh compares
// the agent with — a pcap_next_ex loop over a capture file that touches each
// frame's first byte and does nothing else. Prints "packets=N bytes=B".
#include <pcap/pcap.h>

#include <cstdint>
#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: pcap_read_loop FILE\n");
    return 2;
  }
  char error[PCAP_ERRBUF_SIZE];
  pcap_t* pcap = pcap_open_offline(argv[1], error);
  if (pcap == nullptr) {
    std::fprintf(stderr, "pcap_read_loop: %s\n", error);
    return 1;
  }
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
  unsigned checksum = 0;  // keeps the compiler from dropping the reads
  pcap_pkthdr* header = nullptr;
  const u_char* data = nullptr;
  int rc = 0;
  while ((rc = pcap_next_ex(pcap, &header, &data)) == 1) {
    ++packets;
    bytes += header->caplen;
    if (header->caplen > 0) checksum += data[0];
  }
  if (rc == PCAP_ERROR) std::fprintf(stderr, "pcap_read_loop: %s\n", pcap_geterr(pcap));
  pcap_close(pcap);
  std::printf("packets=%llu bytes=%llu check=%u\n", static_cast<unsigned long long>(packets),
              static_cast<unsigned long long>(bytes), checksum);
  return rc == PCAP_ERROR ? 1 : 0;
}
