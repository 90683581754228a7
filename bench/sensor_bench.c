// SPDX-License-Identifier: Apache-2.0
/*
 * sensor_bench: `make bench-sensor`. Starts the real sensor (real probe, upstream rules plus a
 * marker rule) pinned to CPU 0, and a load generator pinned to CPU 1 that issues openat (most),
 * socket+connect (UDP, 1 in 100) and fork+execve (a fixed rate) at a known target rate. For each
 * rate it prints the events/s the sensor kept up with, the drop rate, the sensor's CPU and RSS,
 * and the syscall-to-alert latency (p50/p99/max) of marker opens, measured from the alert's
 * kernel timestamp to its arrival on a FIFO the sensor writes to. Numbers only; nothing asserted.
 *
 *   sensor_bench --sensor bin/vigil-sensor --rules falco_rules.yaml [--seconds 5]
 *                [--rates 10000,50000,100000,200000] [--preset 4]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MARKER "/tmp/vigil-bench-marker"
#define MAX_LAT 100000

static uint64_t now_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* ---- load generator (child) ---- */

struct load_result {
	uint64_t opens, connects, execs, markers, ns;
};

static void loadgen(long rate, int seconds, int exec_rate, int marker_ms, int out_fd)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(9)};
	struct load_result r = {0};
	uint64_t t0 = now_ns(CLOCK_MONOTONIC), end = t0 + (uint64_t)seconds * 1000000000ull;
	uint64_t next_exec = t0, next_marker = t0, done = 0, now;
	char path[64];
	int i;

	pin(1);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	while ((now = now_ns(CLOCK_MONOTONIC)) < end) {
		uint64_t due = (now - t0) * (uint64_t)rate / 1000000000ull;

		if (done >= due) {
			struct timespec ts = {0, 50000};

			nanosleep(&ts, NULL);
			continue;
		}
		for (i = 0; i < 64 && done < due; i++, done++) {
			if (done % 100 == 99) {
				int s = socket(AF_INET, SOCK_DGRAM, 0);

				connect(s, (struct sockaddr *)&sa, sizeof(sa));
				close(s);
				r.connects++;
				done += 2; /* socket, connect (and close, not captured) */
			} else {
				int fd = open("/etc/hostname", O_RDONLY);

				if (fd >= 0)
					close(fd);
				r.opens++;
			}
		}
		if (exec_rate && now >= next_exec) {
			pid_t p = fork();

			if (p == 0) {
				execl("/bin/true", "true", (char *)NULL);
				_exit(127);
			}
			r.execs++;
			next_exec += 1000000000ull / exec_rate;
		}
		if (now >= next_marker) {
			snprintf(path, sizeof(path), MARKER "-%llu", (unsigned long long)r.markers);
			open(path, O_RDONLY); /* ENOENT; the event is what counts */
			r.markers++;
			next_marker += (uint64_t)marker_ms * 1000000ull;
		}
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
	}
	while (waitpid(-1, NULL, 0) > 0)
		;
	r.ns = now_ns(CLOCK_MONOTONIC) - t0;
	if (write(out_fd, &r, sizeof(r)) != sizeof(r))
		_exit(1);
	_exit(0);
}

/* ---- sensor process info ---- */

static int proc_cpu_ticks(pid_t pid, unsigned long long *ticks)
{
	char path[64], buf[2048], *p;
	unsigned long long ut, st;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	p = strrchr(buf, ')');
	if (!p ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -EINVAL;
	*ticks = ut + st;
	return 0;
}

static long status_kb(pid_t pid, const char *key)
{
	char path[64], line[256];
	size_t kl = strlen(key);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ':')
			v = strtol(line + kl + 1, NULL, 10);
	fclose(f);
	return v;
}

/* Reads one metric value from the sensor's /metrics with curl. */
static double metric(int port, const char *name)
{
	char cmd[256], line[512];
	double v = -1;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "curl -sf http://127.0.0.1:%d/metrics", port);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p)) {
		size_t n = strlen(name);

		if (!strncmp(line, name, n) && line[n] == ' ')
			v = strtod(line + n + 1, NULL);
	}
	pclose(p);
	return v;
}

/* The sensor's own p99 syscall-to-alert latency (ms, a histogram bucket bound) from /metrics. */
static double sensor_p99_ms(int port)
{
	const char *k = "vigil_sensor_alert_latency_seconds_bucket{le=\"";
	char cmd[256], line[512];
	double le[32], cnt[32], total;
	int n = 0, i;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "curl -sf http://127.0.0.1:%d/metrics", port);
	p = popen(cmd, "r");
	if (!p)
		return NAN;
	while (fgets(line, sizeof(line), p) && n < 32) {
		char *q;

		if (strncmp(line, k, strlen(k)))
			continue;
		q = line + strlen(k);
		le[n] = strncmp(q, "+Inf", 4) ? strtod(q, NULL) : INFINITY;
		q = strchr(q, ' ');
		cnt[n++] = q ? strtod(q + 1, NULL) : 0;
	}
	pclose(p);
	if (!n)
		return NAN;
	total = cnt[n - 1];
	for (i = 0; i < n; i++)
		if (total > 0 && cnt[i] >= 0.99 * total)
			return le[i] * 1000;
	return NAN;
}

/* "2026-12-03T13:20:22.989475340Z" -> ns since the epoch; 0 on a parse error. */
static uint64_t parse_time(const char *s)
{
	struct tm tm = {0};
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	uint64_t ns = 0;
	int digits = 0;

	if (!p)
		return 0;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++, digits++)
			ns = ns * 10 + (*p - '0');
	while (digits++ < 9)
		ns *= 10;
	return (uint64_t)timegm(&tm) * 1000000000ull + ns;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int s = socket(AF_INET, SOCK_STREAM, 0), port;

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	bind(s, (struct sockaddr *)&sa, sizeof(sa));
	getsockname(s, (struct sockaddr *)&sa, &len);
	port = ntohs(sa.sin_port);
	close(s);
	return port;
}

static int run_one(const char *sensor, const char *rules, const char *marker_rules, long rate,
		   int seconds, int preset, const char *dir)
{
	char fifo[256], health[64], out[300], presets[8];
	int port = free_port(), pfd[2], lfd, i;
	uint64_t *lat = calloc(MAX_LAT, sizeof(*lat)), nlat = 0, alerts = 0;
	unsigned long long t0, t1;
	double ev0, ev1, dr0, dr1, sp99;
	struct load_result lr = {0};
	long rss, anon, hz = sysconf(_SC_CLK_TCK);
	pid_t sp, lp;
	FILE *in;
	char line[8192];
	uint64_t wall0, wall1;

	snprintf(fifo, sizeof(fifo), "%s/alerts.fifo", dir);
	unlink(fifo);
	if (!lat || mkfifo(fifo, 0600)) {
		perror("mkfifo");
		free(lat);
		return -1;
	}
	snprintf(health, sizeof(health), "127.0.0.1:%d", port);
	snprintf(out, sizeof(out), "file:%s", fifo);
	snprintf(presets, sizeof(presets), "%d", preset);
	sp = fork();
	if (sp == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		pin(0);
		dup2(devnull, 2);
		execl(sensor, sensor, "-r", rules, "-r", marker_rules, "--output", out,
		      "--health-addr", health, "--buffer-preset", presets, "--hostname", "bench",
		      (char *)NULL);
		_exit(127);
	}
	in = fopen(fifo, "r"); /* blocks until the sensor opens its output */
	if (!in) {
		kill(sp, SIGTERM);
		waitpid(sp, NULL, 0);
		free(lat);
		return -1;
	}
	/* wait until the probe is attached and events flow */
	for (i = 0; i < 100 && metric(port, "vigil_sensor_probe_attached") != 1; i++)
		usleep(100000);
	usleep(300000);
	ev0 = metric(port, "vigil_sensor_events_total");
	dr0 = metric(port, "vigil_sensor_drops_total");
	proc_cpu_ticks(sp, &t0);
	wall0 = now_ns(CLOCK_MONOTONIC);
	if (pipe(pfd)) {
		kill(sp, SIGTERM);
		waitpid(sp, NULL, 0);
		fclose(in);
		free(lat);
		return -1;
	}
	lp = fork();
	if (lp == 0) {
		close(pfd[0]);
		fclose(in);
		loadgen(rate, seconds, 50, 10, pfd[1]);
	}
	close(pfd[1]);
	lfd = pfd[0];
	/* read alerts while the load runs; the loadgen's pipe closing ends it */
	fcntl(fileno(in), F_SETFL, O_NONBLOCK);
	for (;;) {
		fd_set rs;
		struct timeval tv = {0, 200000};
		int maxfd = fileno(in) > lfd ? fileno(in) : lfd;

		FD_ZERO(&rs);
		FD_SET(fileno(in), &rs);
		FD_SET(lfd, &rs);
		if (select(maxfd + 1, &rs, NULL, NULL, &tv) < 0 && errno != EINTR)
			break;
		if (FD_ISSET(fileno(in), &rs)) {
			while (fgets(line, sizeof(line), in)) {
				uint64_t arrived = now_ns(CLOCK_REALTIME);
				char *t = strstr(line, "\"time\":\"");

				alerts++;
				if (strstr(line, "\"rule\":\"Bench marker\"") && t &&
				    nlat < MAX_LAT) {
					uint64_t ts = parse_time(t + 8);

					if (ts && arrived > ts)
						lat[nlat++] = arrived - ts;
				}
			}
			clearerr(in);
		}
		if (FD_ISSET(lfd, &rs)) {
			if (read(lfd, &lr, sizeof(lr)) <= 0 || lr.ns)
				break;
		}
	}
	close(lfd);
	waitpid(lp, NULL, 0);
	usleep(500000); /* let the sensor drain */
	wall1 = now_ns(CLOCK_MONOTONIC);
	proc_cpu_ticks(sp, &t1);
	ev1 = metric(port, "vigil_sensor_events_total");
	dr1 = metric(port, "vigil_sensor_drops_total");
	sp99 = sensor_p99_ms(port);
	rss = status_kb(sp, "VmRSS");
	anon = status_kb(sp, "RssAnon");
	while (fgets(line, sizeof(line), in))
		alerts++;
	kill(sp, SIGTERM);
	waitpid(sp, NULL, 0);
	fclose(in);
	unlink(fifo);

	qsort(lat, nlat, sizeof(*lat), cmp_u64);
	{
		double secs = (wall1 - wall0) / 1e9, load_secs = lr.ns / 1e9;
		double issued =
		    (lr.opens + lr.connects * 2 + lr.markers) / (load_secs ? load_secs : 1);
		double evs = (ev1 - ev0) / (load_secs ? load_secs : secs), drops = dr1 - dr0;
		double cpu = (t1 - t0) / (double)hz / secs * 100.0;

		printf("%-9ld %12.0f %12.0f %10.0f %8.3f%% %7.1f%% %8ld %8ld %8.3f %8.3f %8.3f "
		       "%10.2f %8llu\n",
		       rate, issued, evs, drops,
		       (ev1 - ev0 + drops) > 0 ? 100.0 * drops / (ev1 - ev0 + drops) : 0.0, cpu,
		       rss, anon, nlat ? lat[nlat / 2] / 1e6 : NAN,
		       nlat ? lat[(nlat * 99) / 100] / 1e6 : NAN, nlat ? lat[nlat - 1] / 1e6 : NAN,
		       sp99, (unsigned long long)alerts);
	}
	free(lat);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"sensor", required_argument, NULL, 's'},  {"rules", required_argument, NULL, 'r'},
	    {"seconds", required_argument, NULL, 't'}, {"rates", required_argument, NULL, 'R'},
	    {"preset", required_argument, NULL, 'p'},  {0},
	};
	const char *sensor = "bin/vigil-sensor", *rules = NULL;
	char rates[256] = "10000,50000,100000,200000", dir[] = "/tmp/vigil-bench.XXXXXX";
	char marker[300], *tok, *save;
	int seconds = 5, preset = 4, c;
	FILE *f;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			sensor = optarg;
			break;
		case 'r':
			rules = optarg;
			break;
		case 't':
			seconds = atoi(optarg);
			break;
		case 'R':
			snprintf(rates, sizeof(rates), "%s", optarg);
			break;
		case 'p':
			preset = atoi(optarg);
			break;
		default:
			return 2;
		}
	}
	if (!rules || geteuid() != 0) {
		fprintf(stderr,
			"usage (as root): sensor_bench --sensor BIN --rules FILE [--seconds N]"
			" [--rates R1,R2] [--preset N]\n");
		return 2;
	}
	if (!mkdtemp(dir))
		return 1;
	snprintf(marker, sizeof(marker), "%s/marker.yaml", dir);
	f = fopen(marker, "w");
	fprintf(f, "- rule: Bench marker\n  desc: latency marker\n"
		   "  condition: evt.type = openat and fd.name startswith " MARKER "\n"
		   "  output: marker %%fd.name\n  priority: NOTICE\n");
	fclose(f);
	signal(SIGPIPE, SIG_IGN);
	printf("sensor bench: %s, rules %s + marker, %d s per rate, buffer preset %d, sensor on "
	       "CPU 0, load on CPU 1\n",
	       sensor, rules, seconds, preset);
	printf("(p50/p99/max_ms: marker syscall -> alert read by this bench; s_p99: the sensor's "
	       "own histogram bound, syscall -> alert written, all alerts)\n");
	printf("%-9s %12s %12s %10s %9s %8s %8s %8s %8s %8s %8s %10s %8s\n", "target/s", "issued/s",
	       "sensor ev/s", "drops", "drop%", "cpu", "rss_kb", "anon_kb", "p50_ms", "p99_ms",
	       "max_ms", "s_p99<=ms", "alerts");
	for (tok = strtok_r(rates, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		run_one(sensor, rules, marker, atol(tok), seconds, preset, dir);
	unlink(marker);
	rmdir(dir);
	return 0;
}
