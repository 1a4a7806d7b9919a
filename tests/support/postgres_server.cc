#include "tests/support/postgres_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <vector>

extern char** environ;

namespace ipattrib::test_support {
namespace fs = std::filesystem;
namespace {

// IPATTRIB_PG_BINDIR, else the newest /usr/lib/postgresql/<version>/bin
// holding initdb (Debian installs server binaries there, not on PATH).
std::string find_bin_dir() {
  if (const char* env = std::getenv("IPATTRIB_PG_BINDIR"); env != nullptr && *env != '\0') return env;
  std::string best;
  int best_version = -1;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string version = entry.path().filename().string();
    const int v = std::atoi(version.c_str());
    if (v > best_version && fs::exists(entry.path() / "bin" / "initdb")) {
      best_version = v;
      best = (entry.path() / "bin").string();
    }
  }
  return best;
}

int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

std::string tail_of(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  return text.size() > 1500 ? text.substr(text.size() - 1500) : text;
}

// Runs argv (as `nobody` via runuser when we are root), output to log.
Status run_as_server_user(std::vector<std::string> argv, const std::string& log) {
  if (geteuid() == 0) argv.insert(argv.begin(), {"runuser", "-u", "nobody", "--"});
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return Status::error("cannot run " + argv[0] + ": " + std::strerror(rc));
  int status = 0;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Status::error(argv[argv.size() > 4 && geteuid() == 0 ? 4 : 0] + " failed: " + tail_of(log));
  }
  return Status::ok();
}

Status chown_tree_to_nobody(const std::string& dir) {
  if (geteuid() != 0) return Status::ok();
  const passwd* pw = getpwnam("nobody");
  if (pw == nullptr) return Status::error("no user `nobody` to run postgres as (it refuses to run as root)");
  if (chown(dir.c_str(), pw->pw_uid, pw->pw_gid) != 0) return Status::error("cannot chown " + dir);
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (lchown(entry.path().c_str(), pw->pw_uid, pw->pw_gid) != 0) return Status::error("cannot chown " + dir);
  }
  return Status::ok();
}

}  // namespace

Status PostgresServer::start(const PostgresServerOptions& options, std::unique_ptr<PostgresServer>& out) {
  std::unique_ptr<PostgresServer> server(new PostgresServer());
  server->bin_dir_ = find_bin_dir();
  if (server->bin_dir_.empty()) {
    return Status::error("PostgreSQL server binaries not found (apt-get install postgresql, see scripts/setup.sh)");
  }
  std::string pattern = (fs::temp_directory_path() / "ipattrib-pg-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) return Status::error("cannot create a temp dir for postgres");
  server->dir_ = pattern;
  if (Status s = server->launch(options); !s) return s;  // the destructor removes the dir
  out = std::move(server);
  return Status::ok();
}

Status PostgresServer::launch(const PostgresServerOptions& options) {
  password_ = "pw-" + std::to_string(getpid()) + "-" + std::to_string(std::rand());
  const std::string data = dir_ + "/data";
  const std::string log = dir_ + "/server.log";
  const std::string pwfile = dir_ + "/pwfile";
  std::ofstream(pwfile) << password_ << "\n";
  std::ofstream(log).flush();  // created now so the chown below gives it to the server's user
  if (Status s = chown_tree_to_nobody(dir_); !s) return s;
  if (Status s =
          run_as_server_user({bin_dir_ + "/initdb", "-D", data, "-U", "ipattrib", "--pwfile", pwfile,
                              "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "-N"},
                             log);
      !s) {
    return s;
  }
  Status s;
  for (int attempt = 0; attempt < 3; ++attempt) {  // a port taken between probe and start: try another
    port_ = free_port();
    std::ofstream conf(data + "/postgresql.auto.conf", std::ios::app);
    conf << "listen_addresses = '127.0.0.1'\n"
         << "port = " << port_ << "\n"
         << "unix_socket_directories = '" << dir_ << "'\n"
         << "max_connections = 200\n"
         << "shared_buffers = '" << options.shared_buffers << "'\n"
         << "fsync = " << (options.durable ? "on" : "off") << "\n"
         << "full_page_writes = " << (options.durable ? "on" : "off") << "\n"
         << "log_min_messages = warning\n";
    if (const char* slow = std::getenv("IPATTRIB_PG_LOG_SLOW_MS")) {  // diagnosis: statements slower than this
      conf << "log_min_duration_statement = " << std::atoi(slow) << "\n";
    }
    conf.close();
    s = run_as_server_user({bin_dir_ + "/pg_ctl", "start", "-w", "-t", "60", "-D", data, "-l", log}, log);
    if (s) break;
  }
  if (!s) return s;
  running_ = true;
  owner_pid_ = getpid();
  return Status::ok();
}

Status PostgresServer::restart() {
  const std::string data = dir_ + "/data";
  const std::string log = dir_ + "/server.log";
  if (Status s = run_as_server_user({bin_dir_ + "/pg_ctl", "stop", "-m", "immediate", "-w", "-D", data}, log); !s) {
    return s;
  }
  return run_as_server_user({bin_dir_ + "/pg_ctl", "start", "-w", "-t", "60", "-D", data, "-l", log}, log);
}

void PostgresServer::stop() {
  if (running_) {
    run_as_server_user({bin_dir_ + "/pg_ctl", "stop", "-m", "immediate", "-w", "-D", dir_ + "/data"},
                       dir_ + "/server.log");
    running_ = false;
  }
}

PostgresServer::~PostgresServer() {
  if (owner_pid_ != 0 && owner_pid_ != getpid()) return;
  stop();
  if (const char* keep = std::getenv("IPATTRIB_PG_KEEP_LOG")) {
    std::error_code ignored;
    fs::copy_file(dir_ + "/server.log", keep, fs::copy_options::overwrite_existing, ignored);
  }
  std::error_code ignored;
  if (!dir_.empty()) fs::remove_all(dir_, ignored);
}

std::string PostgresServer::conninfo(const std::string& database) const {
  return "host=" + dir_ + " port=" + std::to_string(port_) + " user=ipattrib dbname=" + database;
}

std::string PostgresServer::tcp_conninfo(const std::string& database) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=ipattrib dbname=" + database;
}

Status PostgresServer::execute(const std::string& database, const std::string& sql, std::string* first_value) {
  PGconn* conn = PQconnectdb(conninfo(database).c_str());
  Status s;
  if (PQstatus(conn) != CONNECTION_OK) {
    s = Status::error(std::string("cannot connect to the test server: ") + PQerrorMessage(conn));
  } else {
    PGresult* r = PQexec(conn, sql.c_str());
    const ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      s = Status::error(std::string(PQresultErrorMessage(r)));
    } else if (first_value != nullptr) {
      *first_value = PQntuples(r) > 0 && PQnfields(r) > 0 ? PQgetvalue(r, 0, 0) : "";
    }
    PQclear(r);
  }
  PQfinish(conn);
  return s;
}

Status PostgresServer::ensure_database(const std::string& name) {
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      return Status::error("bad test database name " + name);
    }
  }
  std::string found;
  if (Status s = execute("postgres", "SELECT count(*) FROM pg_database WHERE datname = '" + name + "'", &found); !s) {
    return s;
  }
  if (found == "1") return Status::ok();
  return execute("postgres", "CREATE DATABASE " + name);
}

PostgresServer* shared_postgres_server(std::string& why_not) {
  static std::mutex mutex;
  static std::unique_ptr<PostgresServer> server;
  static std::string failure;
  static bool tried = false;
  std::lock_guard lock(mutex);
  if (!tried) {
    tried = true;
    if (Status s = PostgresServer::start(PostgresServerOptions{}, server); !s) failure = s.message();
  }
  why_not = failure;
  return server.get();
}

std::string fresh_database_name(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + "_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
}

}  // namespace ipattrib::test_support
