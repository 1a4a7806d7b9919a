// WebhookSink against a real local HTTP(S) receiver: the body is the alert's
// JSON, the signature verifies with the shared secret (also with the
// openssl command line the docs give), non-2xx and unreachable receivers
// are errors, and the secret never appears in an error.
#include "collector/alerts/sinks/webhook_sink.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "collector/alerts/alert_json.h"
#include "tests/unit/collector/alerts/sample_alert.h"
#include "tests/unit/collector/alerts/webhook_receiver.h"
#include "tests/unit/common/tls/test_pki.h"

namespace ipattrib::collector {
namespace {

using testing::sample_alert;
using testing::WebhookReceiver;

constexpr char kSecret[] = "s3cr3t-shared-key";

// Computed here with OpenSSL directly, not with the sink's helper.
std::string reference_hmac(const std::string& key, const std::string& body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(body.data()),
       body.size(), mac, &n);
  std::string hex;
  char buf[3];
  for (unsigned int i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof(buf), "%02x", mac[i]);
    hex += buf;
  }
  return hex;
}

std::string run_command(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buf[256];
  while (std::fgets(buf, sizeof(buf), pipe) != nullptr) out += buf;
  ::pclose(pipe);
  return out;
}

class WebhookSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "webhook-sink-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    config_.name = "hook";
    config_.secret_file = dir_ + "/secret";
    std::ofstream(config_.secret_file) << kSecret << "\n";
    config_.timeout_ms = 5000;
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  std::unique_ptr<AlertSink> open() {
    std::unique_ptr<AlertSink> sink;
    Status s = open_webhook_sink(config_, sink);
    EXPECT_TRUE(s) << s.message();
    return sink;
  }

  std::string dir_;
  WebhookSinkConfig config_;
};

TEST_F(WebhookSinkTest, PostsTheAlertJsonSignedWithTheSharedSecret) {
  WebhookReceiver receiver;
  config_.url = receiver.url("http", "/alerts/in?src=ipattrib");
  std::unique_ptr<AlertSink> sink = open();
  ASSERT_NE(sink, nullptr);
  EXPECT_EQ(sink->name(), "hook");
  const Alert alert = sample_alert(17);
  const Status s = sink->deliver(alert);
  ASSERT_TRUE(s) << s.message();

  const auto got = receiver.accepted();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].path, "/alerts/in");
  EXPECT_EQ(got[0].content_type, "application/json");
  EXPECT_EQ(nlohmann::json::parse(got[0].body), alert_to_json(alert));
  EXPECT_EQ(got[0].signature, "sha256=" + reference_hmac(kSecret, got[0].body)) << "trailing newline not in the key";
  EXPECT_NE(got[0].signature, "sha256=" + reference_hmac("wrong", got[0].body));
  EXPECT_EQ(got[0].alert_id, "17");
  ASSERT_FALSE(got[0].timestamp.empty());
  EXPECT_GT(std::stoll(got[0].timestamp), 1'600'000'000);

  // The verification recipe of docs/alerts.md, with the openssl command.
  const std::string body_file = dir_ + "/body";
  std::ofstream(body_file, std::ios::binary) << got[0].body;
  const std::string dgst = run_command("openssl dgst -sha256 -hmac \"$(cat " + config_.secret_file + ")\" -r " +
                                       body_file + " | cut -d' ' -f1");
  EXPECT_EQ("sha256=" + dgst.substr(0, dgst.find('\n')), got[0].signature) << dgst;
}

TEST_F(WebhookSinkTest, OnlyA2xxAnswerIsSuccess) {
  WebhookReceiver receiver;
  receiver.fail_first(1);
  config_.url = receiver.url();
  std::unique_ptr<AlertSink> sink = open();
  const Status refused = sink->deliver(sample_alert(1));
  EXPECT_FALSE(refused);
  EXPECT_NE(refused.message().find("503"), std::string::npos) << refused.message();
  EXPECT_EQ(refused.message().find(kSecret), std::string::npos);
  EXPECT_TRUE(sink->deliver(sample_alert(1)));
  EXPECT_EQ(receiver.accepted().size(), 1u);
}

TEST_F(WebhookSinkTest, UnreachableReceiverIsAnErrorWithoutTheSecret) {
  int port = 0;
  {
    WebhookReceiver gone;
    port = gone.port();
  }
  config_.url = "http://127.0.0.1:" + std::to_string(port) + "/hook";
  config_.timeout_ms = 500;
  std::unique_ptr<AlertSink> sink = open();
  const Status s = sink->deliver(sample_alert(1));
  EXPECT_FALSE(s);
  EXPECT_EQ(s.message().find(kSecret), std::string::npos) << s.message();
}

TEST_F(WebhookSinkTest, HttpsWithAPrivateCa) {
  tls::testing::TestPki pki({});
  ASSERT_TRUE(pki.ok());
  WebhookReceiver receiver(pki.server().cert_file, pki.server().key_file);
  config_.url = receiver.url("https");
  config_.ca_file = pki.server().ca_file;
  std::unique_ptr<AlertSink> sink = open();
  const Status s = sink->deliver(sample_alert(5));
  ASSERT_TRUE(s) << s.message();
  ASSERT_EQ(receiver.accepted().size(), 1u);
  EXPECT_EQ(receiver.accepted()[0].signature, "sha256=" + reference_hmac(kSecret, receiver.accepted()[0].body));

  // Without the CA the receiver's certificate is not trusted.
  config_.ca_file.clear();
  std::unique_ptr<AlertSink> untrusting = open();
  EXPECT_FALSE(untrusting->deliver(sample_alert(6)));
  EXPECT_EQ(receiver.accepted().size(), 1u);
}

TEST_F(WebhookSinkTest, OpeningNeedsAUsableSecretAndUrl) {
  config_.url = "http://127.0.0.1:1/hook";
  std::ofstream(config_.secret_file, std::ios::trunc) << "\n";
  std::unique_ptr<AlertSink> sink;
  EXPECT_FALSE(open_webhook_sink(config_, sink)) << "empty secret";
  config_.secret_file = dir_ + "/missing";
  EXPECT_FALSE(open_webhook_sink(config_, sink));
  std::ofstream(dir_ + "/ok") << kSecret;
  config_.secret_file = dir_ + "/ok";
  config_.url = "ftp://example.com/";
  EXPECT_FALSE(open_webhook_sink(config_, sink));
  config_.url = "http:///nohost";
  EXPECT_FALSE(open_webhook_sink(config_, sink));
  config_.url = "http://127.0.0.1:1";
  EXPECT_TRUE(open_webhook_sink(config_, sink)) << "no path means /";
}

TEST(HmacSha256Hex, MatchesRfc4231TestCase2) {
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

}  // namespace
}  // namespace ipattrib::collector
