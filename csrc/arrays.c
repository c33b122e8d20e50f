/* arrays.c - a table made from the kernel's own arrays, as a decoder found
 * them in a kernel image (issue #5), instead of re-compressing the names.
 *
 * The kernel's names, token table, token index and seqs_of_names are taken
 * as they are; pysyms adds what its lookups need (markers as u32, fine
 * offsets, the name sample, addresses in its own encoding).  The result is
 * laid out as a table file (file.c) and opened with ksym_file_load, so it
 * passes exactly the validation a file from disk does, and the table owns
 * that one block.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksym.h"
#include "table.h"

static int fail(char *msg, size_t msglen, int rc, const char *text)
{
    if (msg && msglen)
        snprintf(msg, msglen, "%s", text);
    return rc;
}

int ksym_table_from_arrays(const uint8_t *names, size_t names_len, const uint8_t *token_table,
                           size_t token_table_len, const uint8_t *token_index,
                           const uint8_t *seqs, const uint64_t *addresses, uint32_t count,
                           struct ksym_table **out, char *msg, size_t msglen)
{
    if (msg && msglen)
        msg[0] = 0;
    if (!out || (count && (!names || !seqs || !addresses)) || !token_table || !token_index)
        return KSYM_EINVAL;
    *out = NULL;
    if (count > KSYM_MAX_SYMBOLS)
        return fail(msg, msglen, KSYM_ETOOMANY, "more symbols than 3-byte seqs can address");
    if (token_table_len == 0 || token_table_len > 65536)
        return fail(msg, msglen, KSYM_ECORRUPT, "token table is empty or longer than 64 KiB");
    for (uint32_t i = 1; i < count; i++)
        if (addresses[i] < addresses[i - 1])
            return fail(msg, msglen, KSYM_ECORRUPT, "addresses are not sorted");
    /* every token inside the table, NUL-terminated, at most a name long:
     * expanding a name below stays within its buffer */
    for (int c = 0; c < KSYM_TOKENS; c++) {
        size_t o = ksym_rd16(token_index + c * 2);
        const uint8_t *z = o < token_table_len ? memchr(token_table + o, 0, token_table_len - o) : NULL;
        if (!z || (size_t)(z - (token_table + o)) > KSYM_NAME_MAX + 1)
            return fail(msg, msglen, KSYM_ECORRUPT, "a token lies outside the token table or is too long");
    }

    size_t nmarkers = ((size_t)count + KSYM_MARKER_STRIDE - 1) / KSYM_MARKER_STRIDE;
    size_t nfine = ((size_t)count + KSYM_FINE_STRIDE - 1) / KSYM_FINE_STRIDE;
    size_t nsamp = ((size_t)count + KSYM_NAME_SAMPLE - 1) / KSYM_NAME_SAMPLE;
    int wide = count && addresses[count - 1] - addresses[0] > UINT32_MAX;
    size_t addr_len = (size_t)count * (wide ? 8 : 4);
    uint8_t *markers = malloc(nmarkers * 4 + 1), *fine = malloc(nfine * 4 + 1),
            *sample = calloc(nsamp * KSYM_SAMPLE_BYTES + 1, 1), *addr = malloc(addr_len + 1);
    uint8_t *file = NULL;
    int rc = KSYM_ENOMEM;
    if (!markers || !fine || !sample || !addr)
        goto done;

    /* markers and fine offsets: a walk over the records, bounds-checked
     * (the loader checks them again, with the rest) */
    size_t off = 0;
    for (uint32_t i = 0; i < count; i++) {
        if (i % KSYM_MARKER_STRIDE == 0)
            ksym_wr32(markers + (i / KSYM_MARKER_STRIDE) * 4, (uint32_t)off);
        if (i % KSYM_FINE_STRIDE == 0)
            ksym_wr32(fine + (i / KSYM_FINE_STRIDE) * 4, (uint32_t)off);
        if (off >= names_len || off > UINT32_MAX) {
            rc = fail(msg, msglen, KSYM_ECORRUPT, "names end before the last record");
            goto done;
        }
        unsigned len, pre = 1;
        len = names[off];
        if ((len & 0x80) && off + 1 < names_len) {
            len = (len & 0x7F) | ((unsigned)names[off + 1] << 7);
            pre = 2;
        }
        off += pre + len;
    }
    if (off != names_len) {
        rc = fail(msg, msglen, KSYM_ECORRUPT, "names do not end with the last record");
        goto done;
    }
    for (uint32_t i = 0; i < count; i++) {
        if (wide)
            ksym_wr64(addr + (size_t)i * 8, addresses[i]);
        else
            ksym_wr32(addr + (size_t)i * 4, (uint32_t)(addresses[i] - addresses[0]));
    }

    /* A provisional table over these arrays, to expand the sampled names
     * and to serialize. */
    struct ksym_table t;
    memset(&t, 0, sizeof t);
    t.count = count;
    t.addr_wide = (uint32_t)wide;
    t.base = wide || !count ? 0 : addresses[0];
    t.names = names;
    t.names_len = names_len;
    t.markers = markers;
    t.markers_len = nmarkers * 4;
    t.token_table = token_table;
    t.token_table_len = token_table_len;
    t.token_index = token_index;
    t.seqs = seqs;
    t.seqs_len = (size_t)count * KSYM_SEQ_BYTES;
    t.addresses = addr;
    t.addresses_len = addr_len;
    t.fine = fine;
    t.fine_len = nfine * 4;
    t.name_sample = sample;
    t.name_sample_len = nsamp * KSYM_SAMPLE_BYTES;
    ksym__decode_tokens(&t);
    for (size_t k = 0; k < nsamp; k++) {
        uint32_t idx = ksym_rdseq(seqs + k * KSYM_NAME_SAMPLE * KSYM_SEQ_BYTES);
        char name[KSYM_NAME_MAX + 1];
        if (idx >= count) {
            rc = fail(msg, msglen, KSYM_ECORRUPT, "seqs_of_names names a symbol past the count");
            goto done;
        }
        int n = ksym_name(&t, idx, name, sizeof name);
        if (n > 0)
            memcpy(sample + k * KSYM_SAMPLE_BYTES, name, n < KSYM_SAMPLE_BYTES ? (size_t)n : KSYM_SAMPLE_BYTES);
    }

    static const char prov[] = "{}";
    size_t size = ksym_file_size(&t, sizeof prov - 1);
    file = malloc(size ? size : 1);
    if (!file)
        goto done;
    int64_t w = ksym_file_write(&t, prov, sizeof prov - 1, file, size);
    if (w < 0) {
        rc = (int)w;
        goto done;
    }
    rc = ksym_file_load(file, size, out, msg, msglen, NULL);
    if (rc == KSYM_OK) {
        (*out)->block = file; /* the table owns it: ksym_table_free frees it */
        (*out)->provenance = NULL;
        (*out)->provenance_len = 0;
        file = NULL;
    }

done:
    free(markers);
    free(fine);
    free(sample);
    free(addr);
    free(file);
    return rc;
}
