/*
 * faramesh-sandbox: the native half of the OS tier on Linux. Three modes:
 *
 *   faramesh-sandbox exec PLAN -- CMD...   (the launcher) build the agent's environment from the
 *       plan's allowlist, drop to the agent's user if the plan names one, and exec bubblewrap with
 *       the plan's namespaces, mounts and seccomp program, running `inner` inside.
 *   faramesh-sandbox inner [OPTS] -- CMD... (inside bubblewrap) bind the loopback relays to the
 *       daemon's proxies, apply Landlock (filesystem, TCP ports, signal and abstract-socket scopes),
 *       then exec the agent.
 *   faramesh-sandbox probe                  print the kernel's Landlock ABI ("landlock 7").
 *
 * Every failure to apply a layer exits non-zero with a message naming the layer: an agent never
 * runs with less confinement than its profile asks for. The plan is written by `faramesh apply`
 * (packages/sandbox/src/plan.ts): NUL-separated directives, each followed by its operands.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Exit codes: 70 the plan or a layer could not be applied, 127 the command could not be run. */
#define EXIT_LAYER 70
#define EXIT_NOEXEC 127

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("faramesh: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(EXIT_LAYER);
}

/* ---------- Landlock (defined here: libc headers lag the kernel's ABI) ---------- */

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#define __NR_landlock_add_rule 445
#define __NR_landlock_restrict_self 446
#endif

struct ll_ruleset_attr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net; /* ABI 4 */
  uint64_t scoped;             /* ABI 6 */
};
struct ll_path_beneath {
  uint64_t allowed_access;
  int32_t parent_fd;
} __attribute__((packed));
struct ll_net_port {
  uint64_t allowed_access;
  uint64_t port;
};

#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_RULE_PATH_BENEATH 1
#define LL_RULE_NET_PORT 2

#define FS_EXECUTE (1ULL << 0)
#define FS_WRITE_FILE (1ULL << 1)
#define FS_READ_FILE (1ULL << 2)
#define FS_READ_DIR (1ULL << 3)
#define FS_REFER (1ULL << 13)    /* ABI 2 */
#define FS_TRUNCATE (1ULL << 14) /* ABI 3 */
#define FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#define FS_ABI1 ((1ULL << 13) - 1)
/* Rights that mean something on a file (the rest only on directories). */
#define FS_FILE (FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV)
#define FS_RO (FS_EXECUTE | FS_READ_FILE | FS_READ_DIR)
#define FS_DEV (FS_READ_FILE | FS_WRITE_FILE | FS_READ_DIR | FS_TRUNCATE | FS_IOCTL_DEV)

#define NET_BIND_TCP (1ULL << 0)
#define NET_CONNECT_TCP (1ULL << 1)
#define SCOPE_ABSTRACT_UNIX (1ULL << 0)
#define SCOPE_SIGNAL (1ULL << 1)

static int landlock_abi(void) {
  long abi = syscall(__NR_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
  return abi < 0 ? -errno : (int)abi;
}

static uint64_t fs_rights(int abi) {
  uint64_t r = FS_ABI1;
  if (abi >= 2) r |= FS_REFER;
  if (abi >= 3) r |= FS_TRUNCATE;
  if (abi >= 5) r |= FS_IOCTL_DEV;
  return r;
}

/* ---------- the plan: NUL-separated directives ---------- */

struct plan {
  char *buf;
  char **tok;
  size_t n;
};

static void read_plan(const char *path, struct plan *p) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) die("cannot read the sandbox plan %s: %s (run faramesh apply)", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size > (16 << 20)) die("the sandbox plan %s is empty or too large", path);
  p->buf = malloc((size_t)st.st_size + 1);
  if (!p->buf) die("out of memory");
  size_t got = 0;
  while (got < (size_t)st.st_size) {
    ssize_t r = read(fd, p->buf + got, (size_t)st.st_size - got);
    if (r <= 0) die("cannot read the sandbox plan %s", path);
    got += (size_t)r;
  }
  close(fd);
  p->buf[got] = '\0';
  if (p->buf[got - 1] != '\0') die("the sandbox plan %s is truncated", path);
  p->n = 0;
  for (size_t i = 0; i < got; i++)
    if (p->buf[i] == '\0') p->n++;
  p->tok = calloc(p->n + 1, sizeof(char *));
  if (!p->tok) die("out of memory");
  char *s = p->buf;
  for (size_t i = 0; i < p->n; i++) {
    p->tok[i] = s;
    s += strlen(s) + 1;
  }
}

/* Operands each directive takes. */
static int operands(const char *d) {
  static const char *one[] = {"bwrap", "seccomp", "agent", "known", "for", "allow", "deny", "workdir", "uid", "gid", "arg", "inner", "profile", NULL};
  for (int i = 0; one[i]; i++)
    if (!strcmp(d, one[i])) return 1;
  if (!strcmp(d, "env")) return 2;
  return -1;
}

/* NAME, or a prefix ending in '*'. */
static int env_match(const char *pattern, const char *name, size_t len) {
  size_t pl = strlen(pattern);
  if (pl > 0 && pattern[pl - 1] == '*') return len >= pl - 1 && !strncmp(pattern, name, pl - 1);
  return len == pl && !strncmp(pattern, name, len);
}

/* Whether two NAME=VALUE entries name the same variable. */
static int same_name(const char *a, const char *b) {
  size_t la = strcspn(a, "="), lb = strcspn(b, "=");
  return la == lb && !strncmp(a, b, la);
}

struct vec {
  char **v;
  size_t n, cap;
};
static void push(struct vec *v, char *s) {
  if (v->n + 1 >= v->cap) {
    v->cap = v->cap ? v->cap * 2 : 64;
    v->v = realloc(v->v, v->cap * sizeof(char *));
    if (!v->v) die("out of memory");
  }
  v->v[v->n++] = s;
  v->v[v->n] = NULL;
}

static int within(const char *dir, const char *path) {
  size_t l = strlen(dir);
  return !strncmp(dir, path, l) && (path[l] == '\0' || path[l] == '/' || (l == 1 && dir[0] == '/'));
}

/*
 * Every descriptor from 3 up is closed at the exec: the agent inherits nothing its launcher held
 * open (a file the operator's shell had open, a socket of the daemon's parent) around the mounts,
 * Landlock and the network namespace. The seccomp program's descriptor is opened afterwards.
 */
#ifndef __NR_close_range
#define __NR_close_range 436
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
static void cloexec_from(int low) {
  if (syscall(__NR_close_range, (unsigned)low, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
  DIR *d = opendir("/proc/self/fd");
  if (!d) die("cannot list this helper's descriptors: %s", strerror(errno));
  struct dirent *e;
  while ((e = readdir(d))) {
    int fd = atoi(e->d_name);
    if (e->d_name[0] < '0' || e->d_name[0] > '9' || fd < low || fd == dirfd(d)) continue;
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 && errno != EBADF) die("cannot close descriptor %d: %s", fd, strerror(errno));
  }
  closedir(d);
}

static int mode_exec(const char *plan_path, char **cmd) {
  struct plan p;
  read_plan(plan_path, &p);
  const char *bwrap = NULL, *seccomp = NULL, *workdir = NULL, *profile = "full";
  const char *agent = getenv("FARAMESH_AGENT_ID");
  long uid = -1, gid = -1;
  struct vec allow = {0}, deny = {0}, fixed = {0}, args = {0}, inner = {0};

  /* The default agent comes first in the plan; a caller's FARAMESH_AGENT_ID picks another. */
  for (size_t i = 0; i + 1 < p.n; i++)
    if (!strcmp(p.tok[i], "agent") && (!agent || !*agent)) agent = p.tok[i + 1];
  /* Only an agent of the stack is started: its own mirror of the agent socket is the only one it
     gets, and every call there is that agent's. No agent named, or an unknown one: nothing starts. */
  int known = 0, listed = 0;
  for (size_t i = 0; i + 1 < p.n; i++)
    if (!strcmp(p.tok[i], "known")) {
      listed = 1;
      if (agent && !strcmp(p.tok[i + 1], agent)) known = 1;
    }
  if (listed && (!agent || !*agent)) die("this stack has several agents: set FARAMESH_AGENT_ID to the one to start");
  if (listed && !known) die("FARAMESH_AGENT_ID names '%s', which is not an agent of this stack", agent);
  int on = 1;
  for (size_t i = 0; i < p.n;) {
    const char *d = p.tok[i];
    int k = operands(d);
    if (k < 0 || i + (size_t)k >= p.n) die("the sandbox plan %s has a bad directive '%s'", plan_path, d);
    char *a = p.tok[i + 1];
    if (!strcmp(d, "for")) on = !strcmp(a, "*") || (agent && !strcmp(a, agent));
    else if (!on || !strcmp(d, "agent") || !strcmp(d, "known")) ;
    else if (!strcmp(d, "bwrap")) bwrap = a;
    else if (!strcmp(d, "seccomp")) seccomp = a;
    else if (!strcmp(d, "workdir")) workdir = a;
    else if (!strcmp(d, "profile")) profile = a;
    else if (!strcmp(d, "uid")) uid = strtol(a, NULL, 10);
    else if (!strcmp(d, "gid")) gid = strtol(a, NULL, 10);
    else if (!strcmp(d, "allow")) push(&allow, a);
    else if (!strcmp(d, "deny")) push(&deny, a);
    else if (!strcmp(d, "arg")) push(&args, a);
    else if (!strcmp(d, "inner")) push(&inner, a);
    else if (!strcmp(d, "env")) {
      size_t l = strlen(a) + strlen(p.tok[i + 2]) + 2;
      char *kv = malloc(l);
      if (!kv) die("out of memory");
      snprintf(kv, l, "%s=%s", a, p.tok[i + 2]);
      /* A later setting wins: an agent's own proxy over the shared one. */
      size_t j = 0;
      while (j < fixed.n && !same_name(fixed.v[j], kv)) j++;
      if (j < fixed.n) fixed.v[j] = kv;
      else push(&fixed, kv);
    }
    i += (size_t)k + 1;
  }
  if (!bwrap || !seccomp || !workdir) die("the sandbox plan %s is incomplete (run faramesh apply)", plan_path);

  /* The environment: allowlisted names and FARAMESH_*, minus the stripped ones, then the plan's own. */
  struct vec env = {0};
  for (char **e = environ; *e; e++) {
    const char *eq = strchr(*e, '=');
    if (!eq) continue;
    size_t len = (size_t)(eq - *e);
    int keep = env_match("FARAMESH_*", *e, len);
    for (size_t j = 0; !keep && j < allow.n; j++) keep = env_match(allow.v[j], *e, len);
    for (size_t j = 0; keep && j < deny.n; j++) keep = !env_match(deny.v[j], *e, len);
    for (size_t j = 0; keep && j < fixed.n; j++) keep = !same_name(fixed.v[j], *e);
    if (keep) push(&env, *e);
  }
  for (size_t j = 0; j < fixed.n; j++) push(&env, fixed.v[j]);

  /* The agent starts where it was launched when that is inside the workspace, else at its top. */
  char cwd[PATH_MAX];
  const char *chdir_to = workdir;
  if (getcwd(cwd, sizeof cwd) && within(workdir, cwd)) chdir_to = cwd;

  cloexec_from(3);
  int sfd = open(seccomp, O_RDONLY); /* inherited by bubblewrap, which loads and closes it */
  if (sfd < 0) die("sandbox layer 'seccomp' unavailable: cannot read the filter %s: %s", seccomp, strerror(errno));
  char sfd_s[16];
  snprintf(sfd_s, sizeof sfd_s, "%d", sfd);

  char self[PATH_MAX];
  ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
  if (sl <= 0) die("cannot find this helper's own path: %s", strerror(errno));
  self[sl] = '\0';

  struct vec argv = {0};
  push(&argv, (char *)bwrap);
  for (size_t j = 0; j < args.n; j++) push(&argv, args.v[j]);
  push(&argv, "--seccomp");
  push(&argv, sfd_s);
  push(&argv, "--chdir");
  push(&argv, (char *)chdir_to);
  push(&argv, "--");
  push(&argv, self);
  push(&argv, "inner");
  for (size_t j = 0; j < inner.n; j++) push(&argv, inner.v[j]);
  push(&argv, "--");
  for (char **c = cmd; *c; c++) push(&argv, *c);

  /* UID separation: the agent runs as its own unprivileged user, never as the daemon's. */
  if (uid >= 0 && getuid() == 0) {
    if (gid < 0) gid = uid;
    if (setgroups(0, NULL) < 0 || setresgid((gid_t)gid, (gid_t)gid, (gid_t)gid) < 0 || setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) < 0)
      die("sandbox layer 'uid separation' failed: cannot become uid %ld: %s", uid, strerror(errno));
    if (setuid(0) == 0) die("sandbox layer 'uid separation' failed: uid 0 could be regained");
  }

  execve(bwrap, argv.v, env.v);
  die("sandbox layer 'namespaces' unavailable (profile %s): cannot run bubblewrap at %s: %s (install the bubblewrap package)", profile,
      bwrap, strerror(errno));
}

/* ---------- inner: relays, Landlock, exec ---------- */

#define MAX_RELAYS 8

struct relay {
  int port;
  const char *path;
  int fd;
};

static void write_all(int fd, const char *b, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, b, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) _exit(0);
    b += w;
    n -= (size_t)w;
  }
}

/* Copy both ways until both sides have finished, passing each half-close on. */
static void pump(int a, int b) {
  static char buf[1 << 16];
  int open_[2] = {1, 1};
  int fds[2] = {a, b};
  while (open_[0] || open_[1]) {
    struct pollfd p[2] = {{open_[0] ? a : -1, POLLIN, 0}, {open_[1] ? b : -1, POLLIN, 0}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    for (int i = 0; i < 2; i++) {
      if (!open_[i] || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t r = read(fds[i], buf, sizeof buf);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        open_[i] = 0;
        shutdown(fds[1 - i], SHUT_WR);
      } else
        write_all(fds[1 - i], buf, (size_t)r);
    }
  }
}

/* The relay process: loopback TCP inside the sandbox to the daemon's Unix sockets bound into it. */
static void relay_loop(struct relay *r, int n) {
  signal(SIGCHLD, SIG_IGN); /* connection children reap themselves */
  struct pollfd p[MAX_RELAYS];
  for (;;) {
    for (int i = 0; i < n; i++) p[i] = (struct pollfd){r[i].fd, POLLIN, 0};
    if (poll(p, (nfds_t)n, -1) < 0) {
      if (errno == EINTR) continue;
      _exit(1);
    }
    for (int i = 0; i < n; i++) {
      if (!(p[i].revents & POLLIN)) continue;
      int c = accept4(r[i].fd, NULL, NULL, SOCK_CLOEXEC);
      if (c < 0) continue;
      pid_t pid = fork();
      if (pid == 0) {
        for (int j = 0; j < n; j++) close(r[j].fd);
        int u = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        strncpy(sa.sun_path, r[i].path, sizeof sa.sun_path - 1);
        if (u < 0 || connect(u, (struct sockaddr *)&sa, sizeof sa) < 0) _exit(1); /* the client sees the close */
        pump(c, u);
        _exit(0);
      }
      close(c);
    }
  }
}

static int listen_loopback(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 128) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static void add_path(int ruleset, const char *path, uint64_t want, uint64_t handled) {
  int fd = open(path, O_PATH | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return; /* a path this machine does not have */
    die("sandbox layer 'landlock' failed: cannot open %s: %s", path, strerror(errno));
  }
  struct stat st;
  if (fstat(fd, &st) < 0) die("sandbox layer 'landlock' failed: cannot stat %s: %s", path, strerror(errno));
  struct ll_path_beneath rule = {.allowed_access = want & handled, .parent_fd = fd};
  /* Directory-only rights on a file are an error (EINVAL): a file gets its file rights only. */
  if (!S_ISDIR(st.st_mode)) rule.allowed_access &= FS_FILE;
  if (rule.allowed_access && syscall(__NR_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &rule, 0) < 0)
    die("sandbox layer 'landlock' failed: rule for %s: %s", path, strerror(errno));
  close(fd);
}

static int mode_inner(int argc, char **argv) {
  int min_abi = 1, net = 0, scope = 0, i = 0;
  const char *report = "";
  struct relay relays[MAX_RELAYS];
  int nrelay = 0;
  /* First pass: options that shape the ruleset. Paths are added once it exists. */
  for (i = 0; i < argc && strcmp(argv[i], "--"); i++) {
    const char *o = argv[i];
    if (!strcmp(o, "--min-abi") && i + 1 < argc) min_abi = atoi(argv[++i]);
    else if (!strcmp(o, "--net")) net = 1;
    else if (!strcmp(o, "--scope")) scope = 1;
    else if (!strcmp(o, "--report") && i + 1 < argc) report = argv[++i];
    else if (!strcmp(o, "--relay") && i + 2 < argc) {
      if (nrelay == MAX_RELAYS) die("too many relays");
      relays[nrelay].port = atoi(argv[++i]);
      relays[nrelay].path = argv[++i];
      nrelay++;
    } else if ((!strcmp(o, "--ro") || !strcmp(o, "--rw") || !strcmp(o, "--dev") || !strcmp(o, "--connect")) && i + 1 < argc)
      i++;
    else
      die("inner: unknown option '%s'", o);
  }
  if (i >= argc || i + 1 >= argc) die("inner: no command after --");
  char **cmd = argv + i + 1;

  int abi = landlock_abi();
  if (abi < 0) die("sandbox layer 'landlock' unavailable: %s (the kernel needs CONFIG_SECURITY_LANDLOCK and lsm=landlock)", strerror(-abi));
  if (abi < min_abi) die("sandbox layer 'landlock' unavailable: the kernel offers ABI %d, this profile needs %d", abi, min_abi);
  if (net && abi < 4) die("sandbox layer 'landlock network' unavailable: the kernel offers ABI %d, TCP rules need 4", abi);
  if (scope && abi < 6) die("sandbox layer 'landlock scopes' unavailable: the kernel offers ABI %d, signal scoping needs 6", abi);

  /* The relays listen before Landlock closes binding to everyone else. */
  for (int r = 0; r < nrelay; r++) {
    relays[r].fd = listen_loopback(relays[r].port);
    if (relays[r].fd < 0) die("sandbox layer 'network bridge' failed: cannot listen on 127.0.0.1:%d: %s", relays[r].port, strerror(errno));
  }

  struct ll_ruleset_attr attr = {
      .handled_access_fs = fs_rights(abi),
      .handled_access_net = net ? (NET_BIND_TCP | NET_CONNECT_TCP) : 0,
      .scoped = scope ? (SCOPE_ABSTRACT_UNIX | SCOPE_SIGNAL) : 0,
  };
  size_t attr_size = scope ? sizeof attr : net ? offsetof(struct ll_ruleset_attr, scoped) : offsetof(struct ll_ruleset_attr, handled_access_net);
  int rs = (int)syscall(__NR_landlock_create_ruleset, &attr, attr_size, 0);
  if (rs < 0) die("sandbox layer 'landlock' failed: create_ruleset: %s", strerror(errno));
  for (int j = 0; j < i; j++) {
    const char *o = argv[j];
    if (!strcmp(o, "--ro")) add_path(rs, argv[++j], FS_RO, attr.handled_access_fs);
    else if (!strcmp(o, "--rw")) add_path(rs, argv[++j], attr.handled_access_fs, attr.handled_access_fs);
    else if (!strcmp(o, "--dev")) add_path(rs, argv[++j], FS_DEV, attr.handled_access_fs);
    else if (!strcmp(o, "--connect")) {
      struct ll_net_port rule = {.allowed_access = NET_CONNECT_TCP, .port = (uint64_t)atoi(argv[++j])};
      if (net && syscall(__NR_landlock_add_rule, rs, LL_RULE_NET_PORT, &rule, 0) < 0)
        die("sandbox layer 'landlock network' failed: port rule: %s", strerror(errno));
    } else if (!strcmp(o, "--min-abi") || !strcmp(o, "--report"))
      j++;
    else if (!strcmp(o, "--relay"))
      j += 2;
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) die("cannot set no_new_privs: %s", strerror(errno));
  if (syscall(__NR_landlock_restrict_self, rs, 0) < 0) die("sandbox layer 'landlock' failed: restrict_self: %s", strerror(errno));
  close(rs);

  if (nrelay > 0) {
    /* Double fork: the relay is adopted by the sandbox's init, not left as the agent's child. */
    pid_t pid = fork();
    if (pid < 0) die("sandbox layer 'network bridge' failed: fork: %s", strerror(errno));
    if (pid == 0) {
      if (fork() == 0) {
        setsid();
        relay_loop(relays, nrelay);
      }
      _exit(0);
    }
    waitpid(pid, NULL, 0);
    for (int r = 0; r < nrelay; r++) close(relays[r].fd);
  }

  const char *quiet = getenv("FARAMESH_QUIET");
  if (!quiet || !*quiet || !strcmp(quiet, "0"))
    fprintf(stderr, "faramesh: sandbox %s; landlock ABI %d (filesystem%s%s)\n", report, abi, net ? ", tcp ports" : "", scope ? ", signal and abstract-socket scopes" : "");
  execvp(cmd[0], cmd);
  fprintf(stderr, "faramesh: cannot run %s in the sandbox: %s\n", cmd[0], strerror(errno));
  return EXIT_NOEXEC;
}

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "probe")) {
    int abi = landlock_abi();
    if (abi < 0) printf("landlock 0 %s\n", strerror(-abi));
    else printf("landlock %d\n", abi);
    return 0;
  }
  if (argc >= 5 && !strcmp(argv[1], "exec") && !strcmp(argv[3], "--")) return mode_exec(argv[2], argv + 4);
  if (argc >= 2 && !strcmp(argv[1], "inner")) return mode_inner(argc - 2, argv + 2);
  fprintf(stderr, "usage: faramesh-sandbox exec PLAN -- CMD... | inner [OPTIONS] -- CMD... | probe\n");
  return 64;
}
