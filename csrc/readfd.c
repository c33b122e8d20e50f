/* readfd.c - ksym_builder_add_fd: a text source read on a second thread
 * while this one parses the lines already read.
 *
 * The kernel produces /proc/kallsyms as it is read, which takes it 60-90
 * ms for 120k lines on the machines this targets; parsing what has
 * arrived meanwhile hides the parse (12-19 ms) behind the read.  The
 * reader fills chunks and queues them; the parser takes each chunk's
 * whole lines, carrying a line cut by a chunk's end over to the next, so
 * it sees exactly the lines ksym_builder_add_text would (same numbers,
 * same errors, same '\r' rule).  Between chunks it also prepares the
 * compression's input for the records added so far, which would otherwise
 * be finish's first 40 ms, and while it waits for a chunk it faults in the
 * memory that finish will take for those records (bank.h).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* read */
#endif
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#if !defined(KSYM_NO_THREADS) && (defined(__unix__) || defined(__APPLE__))
#define KSYM_THREADS 1
#include <pthread.h>
#endif
#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

#include "builder.h"
#include "compress.h"
#include "ksym.h"

#define CHUNK_BYTES (256u << 10)
/* The parser also prepares the compression's input (compress.h) while the
 * reader waits on the kernel, in batches of at least this many records. */
#define PREPARE_BATCH 8192
/* Bytes of the bank faulted in at a time while no chunk has come, and at
 * most in all: past that (some 2M records), finish faults in the rest
 * as it goes, as it would without a bank, rather than the read holding
 * gigabytes early. */
#define BANK_SLICE (128u << 10)
#define BANK_AHEAD_MAX ((size_t)512 << 20)

struct chunk {
    struct chunk *next;
    size_t len;
    char data[CHUNK_BYTES];
};

/* Fill c from fd, to CHUNK_BYTES or the end; 0, or errno. */
static int fill_chunk(int fd, struct chunk *c, int *eof)
{
    c->len = 0;
    while (c->len < CHUNK_BYTES) {
        ssize_t r = read(fd, c->data + c->len, CHUNK_BYTES - c->len);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return errno ? errno : EIO;
        }
        if (r == 0) {
            *eof = 1;
            break;
        }
        c->len += (size_t)r;
    }
    return 0;
}

/* A line cut by a chunk's end, kept until its '\n' arrives. */
struct carry {
    char *buf;
    size_t len, cap;
};

static int carry_add(struct carry *c, const char *p, size_t n)
{
    if (n == 0)
        return 0; /* c->buf may still be NULL */
    if (c->len + n > c->cap) {
        size_t cap = c->cap ? c->cap : 1024;
        while (cap < c->len + n)
            cap *= 2;
        char *nb = realloc(c->buf, cap);
        if (!nb)
            return -1;
        c->buf = nb;
        c->cap = cap;
    }
    memcpy(c->buf + c->len, p, n);
    c->len += n;
    return 0;
}

static int no_memory(struct ksym_builder *b)
{
    return ksym__error(b, KSYM_ENOMEM, 0, -1, "out of memory");
}

/* Parse what chunk c completes: the carried line up to c's first '\n',
 * then c's whole lines; the rest of c is carried. */
static int parse_chunk(struct ksym_builder *b, const struct chunk *c, struct carry *carry,
                       struct ksym_text_state *st)
{
    const char *p = c->data, *end = c->data + c->len;
    if (carry->len) {
        const char *nl = memchr(p, '\n', c->len);
        if (!nl)
            return carry_add(carry, p, c->len) ? no_memory(b) : 0;
        if (carry_add(carry, p, (size_t)(nl + 1 - p)))
            return no_memory(b);
        int err = ksym__parse_lines(b, carry->buf, carry->len, st);
        carry->len = 0;
        if (err)
            return err;
        p = nl + 1;
    }
    const char *last = end;
    while (last > p && last[-1] != '\n')
        last--;
    if (last > p) {
        int err = ksym__parse_lines(b, p, (size_t)(last - p), st);
        if (err)
            return err;
    }
    return carry_add(carry, last, (size_t)(end - last)) ? no_memory(b) : 0;
}

#ifdef KSYM_THREADS
struct reader {
    int fd;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct chunk *head, *tail; /* read, not yet parsed */
    int done;                  /* no more chunks will come */
    int error;                 /* errno of a failed read, or -1 out of memory */
    int stop;                  /* the parser gave up: stop reading */
};

static void *read_all(void *arg)
{
    struct reader *r = arg;
    int eof = 0, error = 0;
    while (!eof && !error) {
        pthread_mutex_lock(&r->mu);
        int stop = r->stop;
        pthread_mutex_unlock(&r->mu);
        if (stop)
            break;
        struct chunk *c = malloc(sizeof *c);
        if (!c) {
            error = -1;
            break;
        }
        c->next = NULL;
        error = fill_chunk(r->fd, c, &eof);
        pthread_mutex_lock(&r->mu);
        if (r->tail)
            r->tail->next = c;
        else
            r->head = c;
        r->tail = c;
        pthread_cond_signal(&r->cv);
        pthread_mutex_unlock(&r->mu);
    }
    pthread_mutex_lock(&r->mu);
    r->done = 1;
    r->error = error;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* Fault in a slice of the bank that finish will take for the records
 * parsed so far (bank.h); whether there is more to do.  A slice is short
 * (about 0.1 ms), so a chunk that comes meanwhile waits little. */
static int bank_ahead(struct ksym_builder *b)
{
    size_t target = ksym__finish_bank_bytes(b->nrecs);
    if (target > BANK_AHEAD_MAX)
        target = BANK_AHEAD_MAX;
    if (b->bank.touched >= target || ksym__bank_reserve(&b->bank, target))
        return 0;
    return ksym__bank_touch(&b->bank, target, BANK_SLICE) > 0;
}

/* The next chunk read, or NULL at the end (*error says why).  Until one
 * comes, b's bank is faulted in (b NULL: not, after a parse error). */
static struct chunk *next_chunk(struct reader *r, struct ksym_builder *b, int *error)
{
    pthread_mutex_lock(&r->mu);
    int ahead = b != NULL;
    while (!r->head && !r->done) {
        if (ahead) {
            pthread_mutex_unlock(&r->mu);
            ahead = bank_ahead(b);
            pthread_mutex_lock(&r->mu);
            continue;
        }
        pthread_cond_wait(&r->cv, &r->mu);
    }
    struct chunk *c = r->head;
    if (c) {
        r->head = c->next;
        if (!r->head)
            r->tail = NULL;
    }
    *error = r->error;
    pthread_mutex_unlock(&r->mu);
    return c;
}
#endif

static int read_error(struct ksym_builder *b, int error)
{
    if (error < 0)
        return no_memory(b);
    return ksym__error(b, KSYM_EIO, 0, -1, "cannot read: %s", strerror(error));
}

int ksym_builder_add_fd(struct ksym_builder *b, int fd)
{
    if (!b)
        return KSYM_EINVAL;
    struct ksym_mark mark;
    ksym__mark(b, &mark);
    struct ksym_text_state st = {0, 0, 1};
    struct carry carry = {NULL, 0, 0};
    int err = 0, error = 0;
#ifdef KSYM_THREADS
    struct reader r;
    memset(&r, 0, sizeof r);
    r.fd = fd;
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);
    pthread_t thr;
    int threaded = pthread_create(&thr, NULL, read_all, &r) == 0;
    if (threaded) {
        struct chunk *c;
        int prepare = 1;
        while ((c = next_chunk(&r, err ? NULL : b, &error)) != NULL) {
            if (!err)
                err = parse_chunk(b, c, &carry, &st);
            free(c);
            /* A failed preparation is only work lost: finish starts over
             * and reports what it meets. */
            if (!err && prepare && ksym__comp_prepare(b, PREPARE_BATCH))
                prepare = 0;
            if (err) {
                pthread_mutex_lock(&r.mu);
                r.stop = 1;
                pthread_mutex_unlock(&r.mu);
            }
        }
        pthread_join(thr, NULL);
    }
    pthread_mutex_destroy(&r.mu);
    pthread_cond_destroy(&r.cv);
    if (!threaded)
#endif
    {
        struct chunk *c = malloc(sizeof *c);
        int eof = 0;
        if (!c)
            error = -1;
        while (c && !eof && !error && !err) {
            error = fill_chunk(fd, c, &eof);
            err = parse_chunk(b, c, &carry, &st);
        }
        free(c);
    }
    if (!err && error)
        err = read_error(b, error);
    if (!err && carry.len) /* the last line, without its '\n' */
        err = ksym__parse_lines(b, carry.buf, carry.len, &st);
    free(carry.buf);
    if (err) {
        ksym__rollback(b, &mark);
        return err;
    }
    return ksym__text_checks(b, &mark, &st);
}
