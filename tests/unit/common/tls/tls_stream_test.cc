#include "common/tls/tls_stream.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <future>
#include <thread>

#include "common/tls/tcp_socket.h"
#include "common/tls/tls_context.h"
#include "tests/unit/common/tls/test_pki.h"

namespace ipattrib::tls {
namespace {

using testing::TestPki;

constexpr int kTimeoutMs = 10000;

// A loopback listener and the server half of one connection, run on a thread.
struct ServerResult {
  Status status;
  bool certificate_rejected = false;
  std::vector<std::string> identities;
  std::string received;
};

class Loopback {
 public:
  Loopback() {
    Status s = listen_tcp({"127.0.0.1", 0}, 8, listener_, port_);
    EXPECT_TRUE(s) << s.message();
  }
  HostPort address() const { return {"127.0.0.1", port_}; }

  // Accepts one connection, handshakes, reads `expect` bytes and echoes them back.
  std::future<ServerResult> serve_once(const TlsContext& context, std::size_t expect) {
    return std::async(std::launch::async, [this, &context, expect] {
      ServerResult result;
      pollfd p{listener_.get(), POLLIN, 0};
      if (poll(&p, 1, kTimeoutMs) != 1) {
        result.status = Status::error("no connection");
        return result;
      }
      UniqueFd fd(accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK));
      std::unique_ptr<TlsStream> stream;
      result.status = TlsStream::accept(context, std::move(fd), kTimeoutMs, stream, &result.certificate_rejected);
      if (!result.status) return result;
      result.identities = stream->peer_identities();
      std::uint8_t buf[256];
      while (result.received.size() < expect) {
        std::size_t n = 0;
        Status error;
        if (stream->read_some(buf, n, kTimeoutMs, error) != TlsStream::IoResult::kOk) break;
        result.received.append(reinterpret_cast<char*>(buf), n);
      }
      result.status = stream->write_all({reinterpret_cast<const std::uint8_t*>(result.received.data()),
                                         result.received.size()},
                                        kTimeoutMs);
      stream->shutdown(kTimeoutMs);
      return result;
    });
  }

 private:
  UniqueFd listener_;
  std::uint16_t port_ = 0;
};

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

class TlsStreamTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new TestPki({"agent-1"});
    other_pki_ = new TestPki({"agent-1"});  // a second, unrelated CA issuing the same name
  }
  static void TearDownTestSuite() {
    delete pki_;
    delete other_pki_;
  }
  static TestPki* pki_;
  static TestPki* other_pki_;
};
TestPki* TlsStreamTest::pki_ = nullptr;
TestPki* TlsStreamTest::other_pki_ = nullptr;

TEST_F(TlsStreamTest, MakePkiKeysArePrivate) {
  ASSERT_TRUE(pki_->ok());
  struct stat st {};
  ASSERT_EQ(stat(pki_->agent("agent-1").key_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(stat(pki_->server().key_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(TlsStreamTest, MutualHandshakeCarriesAgentIdentityAndData) {
  std::unique_ptr<TlsContext> server, client;
  ASSERT_TRUE(TlsContext::make_server(pki_->server(), server));
  ASSERT_TRUE(TlsContext::make_client(pki_->agent("agent-1"), client));
  Loopback loop;
  auto served = loop.serve_once(*server, 5);

  UniqueFd fd;
  ASSERT_TRUE(connect_tcp(loop.address(), kTimeoutMs, fd));
  std::unique_ptr<TlsStream> stream;
  Status s = TlsStream::connect(*client, std::move(fd), "127.0.0.1", kTimeoutMs, stream);
  ASSERT_TRUE(s) << s.message();
  EXPECT_STREQ(stream->protocol(), "TLSv1.3");
  ASSERT_TRUE(stream->write_all(bytes_of("hello"), kTimeoutMs));
  std::string echoed;
  std::uint8_t buf[16];
  while (echoed.size() < 5) {
    std::size_t n = 0;
    Status error;
    ASSERT_EQ(stream->read_some(buf, n, kTimeoutMs, error), TlsStream::IoResult::kOk) << error.message();
    echoed.append(reinterpret_cast<char*>(buf), n);
  }
  EXPECT_EQ(echoed, "hello");
  std::size_t n = 0;
  Status error;
  EXPECT_EQ(stream->read_some(buf, n, kTimeoutMs, error), TlsStream::IoResult::kClosed);  // close_notify
  stream->shutdown(kTimeoutMs);
  ServerResult result = served.get();
  EXPECT_TRUE(result.status) << result.status.message();
  EXPECT_EQ(result.identities, (std::vector<std::string>{"agent-1", "agent-1"}));  // SAN DNS, then CN
}

TEST_F(TlsStreamTest, ServerRefusesClientCertificateFromAnotherCa) {
  std::unique_ptr<TlsContext> server, client;
  ASSERT_TRUE(TlsContext::make_server(pki_->server(), server));
  TlsFiles files = other_pki_->agent("agent-1");
  files.ca_file = pki_->server().ca_file;  // trusts the real collector, but its own cert is foreign
  ASSERT_TRUE(TlsContext::make_client(files, client));
  Loopback loop;
  auto served = loop.serve_once(*server, 1);
  UniqueFd fd;
  ASSERT_TRUE(connect_tcp(loop.address(), kTimeoutMs, fd));
  std::unique_ptr<TlsStream> stream;
  Status s = TlsStream::connect(*client, std::move(fd), "127.0.0.1", kTimeoutMs, stream);
  // TLS 1.3: the client finishes first; the refusal arrives as an alert on its first read.
  if (s) {
    std::uint8_t buf[8];
    std::size_t n = 0;
    Status error;
    EXPECT_NE(stream->read_some(buf, n, kTimeoutMs, error), TlsStream::IoResult::kOk);
  }
  ServerResult result = served.get();
  EXPECT_FALSE(result.status);
  EXPECT_TRUE(result.certificate_rejected) << result.status.message();
}

TEST_F(TlsStreamTest, ClientRefusesServerWithWrongHostName) {
  std::unique_ptr<TlsContext> server, client;
  ASSERT_TRUE(TlsContext::make_server(pki_->server(), server));
  ASSERT_TRUE(TlsContext::make_client(pki_->agent("agent-1"), client));
  Loopback loop;
  auto served = loop.serve_once(*server, 1);
  UniqueFd fd;
  ASSERT_TRUE(connect_tcp(loop.address(), kTimeoutMs, fd));
  std::unique_ptr<TlsStream> stream;
  Status s = TlsStream::connect(*client, std::move(fd), "collector.example.org", kTimeoutMs, stream);
  EXPECT_FALSE(s);
  EXPECT_NE(s.message().find("certificate"), std::string::npos) << s.message();
  EXPECT_FALSE(served.get().status);
}

TEST_F(TlsStreamTest, ClientRefusesServerFromAnotherCa) {
  std::unique_ptr<TlsContext> server, client;
  ASSERT_TRUE(TlsContext::make_server(other_pki_->server(), server));
  ASSERT_TRUE(TlsContext::make_client(pki_->agent("agent-1"), client));
  Loopback loop;
  auto served = loop.serve_once(*server, 1);
  UniqueFd fd;
  ASSERT_TRUE(connect_tcp(loop.address(), kTimeoutMs, fd));
  std::unique_ptr<TlsStream> stream;
  EXPECT_FALSE(TlsStream::connect(*client, std::move(fd), "localhost", kTimeoutMs, stream));
  EXPECT_FALSE(served.get().status);
}

TEST_F(TlsStreamTest, ReadTimesOutWithoutData) {
  auto plain = TlsContext::make_plaintext_for_tests("test");
  Loopback loop;
  auto served = loop.serve_once(*plain, 3);
  UniqueFd fd;
  ASSERT_TRUE(connect_tcp(loop.address(), kTimeoutMs, fd));
  std::unique_ptr<TlsStream> stream;
  ASSERT_TRUE(TlsStream::connect(*plain, std::move(fd), "127.0.0.1", kTimeoutMs, stream));
  EXPECT_TRUE(stream->plaintext());
  std::uint8_t buf[8];
  std::size_t n = 0;
  Status error;
  EXPECT_EQ(stream->read_some(buf, n, 50, error), TlsStream::IoResult::kTimeout);
  ASSERT_TRUE(stream->write_all(bytes_of("abc"), kTimeoutMs));
  stream->shutdown(kTimeoutMs);  // the server's lingering close waits for ours
  ServerResult result = served.get();
  EXPECT_EQ(result.received, "abc");
  EXPECT_TRUE(result.identities.empty());
}

TEST(TlsContextTest, MissingFilesNameTheFile) {
  std::unique_ptr<TlsContext> context;
  Status s = TlsContext::make_server({"/nonexistent/ca.crt", "/nonexistent/c.crt", "/nonexistent/c.key"}, context);
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("/nonexistent/ca.crt"), std::string::npos) << s.message();
  EXPECT_FALSE(TlsContext::make_client({"", "", ""}, context));
}

TEST(HostPortTest, ParsesAndRejects) {
  HostPort hp;
  ASSERT_TRUE(parse_host_port("collector.example:7443", hp));
  EXPECT_EQ(hp.host, "collector.example");
  EXPECT_EQ(hp.port, 7443);
  ASSERT_TRUE(parse_host_port("[::1]:0", hp));
  EXPECT_EQ(hp.host, "::1");
  EXPECT_EQ(hp.port, 0);
  for (const char* bad : {"", "host", ":80", "host:", "host:65536", "host:8x", "::1:80", "[::1]80", "[::1]:"}) {
    EXPECT_FALSE(parse_host_port(bad, hp)) << bad;
  }
}

TEST(ConnectTest, ClosedPortFails) {
  UniqueFd listener;
  std::uint16_t port = 0;
  ASSERT_TRUE(listen_tcp({"127.0.0.1", 0}, 1, listener, port));
  listener.reset();  // nothing listens there any more
  UniqueFd fd;
  EXPECT_FALSE(connect_tcp({"127.0.0.1", port}, kTimeoutMs, fd));
}

}  // namespace
}  // namespace ipattrib::tls
