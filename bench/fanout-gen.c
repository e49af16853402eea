/*
 * The fan-out bench's listener generator: N TCP listeners that each read at a sound card's pace.
 *
 *   fanout-gen HOST PORT N RAMP_MS WARM_MS WINDOW_MS PREAMBLE_FILE
 *
 * Listener i connects at i*RAMP_MS/N ms, sends the preamble (an HTTP GET, or HELLO and PLAY) and
 * then plays: a 64 KiB play-out buffer drained by a token bucket of 176 400 B/s (44.1 kHz stereo
 * 16-bit) ticked every 10 ms, refilled from the socket only as far as it has room, so TCP flow
 * control paces the server as a sound card would. Playback starts once the buffer is half full.
 * Over the window [RAMP+WARM, RAMP+WARM+WINDOW) each listener's received bytes are counted; one
 * that receives less than 90 % of real time there has stalled; one whose connection failed or was
 * closed before the window ended was dropped. Prints one JSON line with the counts and its own CPU.
 *
 * One thread, no allocation after start, and no read that finds nothing (epoll, edge-triggered, says
 * which sockets have data): the generator must cost far less than the servers it drives.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RATE 176400            /* bytes a second of 44.1 kHz stereo 16-bit */
#define TICK_MS 10
#define PER_TICK (RATE / (1000 / TICK_MS))
#define BUFFER (64 * 1024)
#define PREBUFFER (BUFFER / 2)
#define READ_MIN (8 * 1024)    /* read once this much room is free: a player refills in pieces */

enum { WAITING, CONNECTING, OPEN, GONE };

struct listener {
  int fd;
  int state;
  int playing;
  int readable;            /* epoll said data arrived; cleared when recv finds none */
  long fill;
  long long received;
  long long window_bytes;
  long underruns;
};

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000.0 + t.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static struct listener *ls;
static int ep;
static char preamble[65536];
static size_t plen;

/* Takes every epoll event waiting: a connect that completed (send the preamble), or data arrived. */
static void harvest(void) {
  struct epoll_event evs[1024];
  int got;
  do {
    got = epoll_wait(ep, evs, 1024, 0);
    for (int e = 0; e < got; e++) {
      struct listener *l = &ls[evs[e].data.u32];
      if (l->state == OPEN) { l->readable = 1; continue; }
      if (l->state != CONNECTING) continue;
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(l->fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err || send(l->fd, preamble, plen, MSG_NOSIGNAL) != (ssize_t)plen) {
        epoll_ctl(ep, EPOLL_CTL_DEL, l->fd, NULL);
        l->state = GONE;
        close(l->fd);
      } else {
        /* from now on epoll only says that data arrived (edge-triggered); the tick reads it */
        struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.u32 = evs[e].data.u32 };
        epoll_ctl(ep, EPOLL_CTL_MOD, l->fd, &ev);
        l->state = OPEN;
        l->readable = 1;
      }
    }
  } while (got == 1024);
}

/* Reads into the play-out buffer what the socket holds, while at least `min_room` of it is free. */
static void refill(struct listener *l, long min_room, int in_window) {
  static char scratch[BUFFER];
  while (l->state == OPEN && l->readable && BUFFER - l->fill >= min_room) {
    ssize_t r = recv(l->fd, scratch, BUFFER - l->fill, MSG_DONTWAIT);
    if (r > 0) {
      l->fill += r;
      l->received += r;
      if (in_window) l->window_bytes += r;
      if (!l->playing && l->fill >= PREBUFFER) l->playing = 1;
      continue;
    }
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) { l->readable = 0; break; }
    if (r < 0 && errno == EINTR) continue;
    l->state = GONE;   /* closed or reset by the server */
    close(l->fd);
  }
}

int main(int argc, char **argv) {
  if (argc != 8) {
    fprintf(stderr, "usage: fanout-gen HOST PORT N RAMP_MS WARM_MS WINDOW_MS PREAMBLE_FILE\n");
    return 2;
  }
  const char *host = argv[1];
  int port = atoi(argv[2]), n = atoi(argv[3]);
  double ramp = atof(argv[4]), warm = atof(argv[5]), window = atof(argv[6]);
  FILE *pf = fopen(argv[7], "rb");
  if (!pf) { perror("preamble"); return 2; }
  plen = fread(preamble, 1, sizeof preamble, pf);
  fclose(pf);
  signal(SIGPIPE, SIG_IGN);

  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port) };
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) { fprintf(stderr, "bad host %s\n", host); return 2; }
  ls = calloc(n, sizeof *ls);
  ep = epoll_create1(0);

  const double t0 = now_ms();
  const double win_start = ramp + warm, win_end = ramp + warm + window;
  long long ticks_done = 0;
  int next = 0;
  fprintf(stderr, "fanout-gen: %d listeners over %.0f ms\n", n, ramp);

  for (;;) {
    double t = now_ms() - t0;
    if (t >= win_end) break;
    /* open the listeners whose time has come */
    while (next < n && t >= next * ramp / n) {
      struct listener *l = &ls[next];
      l->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      if (l->fd < 0 || (connect(l->fd, (struct sockaddr *)&addr, sizeof addr) < 0 && errno != EINPROGRESS)) {
        l->state = GONE;
      } else {
        l->state = CONNECTING;
        struct epoll_event ev = { .events = EPOLLOUT, .data.u32 = (unsigned)next };
        epoll_ctl(ep, EPOLL_CTL_ADD, l->fd, &ev);
      }
      next++;
    }
    /* the token bucket: every tick due since the start drains each playing buffer */
    long long due = (long long)(t / TICK_MS);
    if (due > ticks_done) {
      long long k = due - ticks_done;
      ticks_done = due;
      int in_window = t >= win_start;
      for (int i = 0; i < next; i++) {
        struct listener *l = &ls[i];
        if (l->state != OPEN) continue;
        if (l->playing) {
          long want = PER_TICK * k;
          if (l->fill < want) refill(l, 1, in_window);   /* what came since the last read plays too */
          if (l->fill < want) { l->underruns++; l->fill = 0; } else l->fill -= want;
        }
        refill(l, l->playing ? READ_MIN : 1, in_window);
      }
    }
    /* sleep to the next tick, then take every event that came meanwhile in one go: the generator
       wakes 100 times a second however many segments arrive */
    double until = (ticks_done + 1) * TICK_MS - (now_ms() - t0);
    if (until > 0) {
      struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)(until * 1e6) };
      nanosleep(&ts, NULL);
    }
    harvest();
  }

  double elapsed = now_ms() - t0;
  int opened = 0, dropped = 0, stalled = 0, underran = 0, alive = 0;
  double *ratio = calloc(n, sizeof *ratio);
  const double full = RATE * window / 1000.0;
  for (int i = 0; i < n; i++) {
    struct listener *l = &ls[i];
    if (l->state == GONE || l->state == WAITING || l->state == CONNECTING) { dropped++; continue; }
    opened++;
    double q = l->window_bytes / full;
    ratio[alive++] = q;
    if (q < 0.9) stalled++;
    if (l->underruns > 0) underran++;
  }
  qsort(ratio, alive, sizeof *ratio, cmp_double);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
  printf("{\"n\":%d,\"open\":%d,\"dropped\":%d,\"stalled\":%d,\"underran\":%d,"
         "\"minRatio\":%.3f,\"p10Ratio\":%.3f,\"medianRatio\":%.3f,\"cpuSeconds\":%.2f,\"elapsedMs\":%.0f}\n",
         n, opened, dropped, stalled, underran,
         alive ? ratio[0] : 0, alive ? ratio[alive / 10] : 0, alive ? ratio[alive / 2] : 0, cpu, elapsed);
  return 0;
}
