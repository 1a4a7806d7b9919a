// What the tests that run the agent live on the loopback interface share:
// whether this machine lets them capture there, a listening socket the
// captured traffic goes to, and waiting for a line in the agent's log.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace ipattrib::test_support {

inline bool can_capture_on_loopback() {
  char errbuf[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_create("lo", errbuf);
  if (p == nullptr) return false;
  const bool ok = pcap_activate(p) >= 0;
  pcap_close(p);
  return ok;
}

// A listening socket on 127.0.0.1 with a kernel-chosen port; -1 on failure.
inline int listen_on_loopback(std::uint16_t& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 4) != 0) return -1;
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port = ntohs(addr.sin_port);
  return fd;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Waits (up to `seconds`, a guard against hanging) until the file holds `needle`.
inline bool wait_for(const std::string& path, const std::string& needle, int seconds) {
  for (int i = 0; i < seconds * 20; ++i) {
    if (read_file(path).find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace ipattrib::test_support
