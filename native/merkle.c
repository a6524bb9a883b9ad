/*
 * tlogwatch's native Merkle hashing loops: RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency)
 * over SHA-256, in one Node-API call per proof instead of one node:crypto call per hash, and the
 * leaf and plain SHA-256 of one buffer, at a tenth of node:crypto's call overhead.
 * https://www.rfc-editor.org/rfc/rfc9162#section-2.1.3.2
 *
 * Built by native/build.ts into build/native/merkle.node; loaded, self-tested and wrapped by
 * src/merkle/native.ts. The TypeScript in src/merkle stays the definition: every function here answers
 * `false` for anything it does not fully accept (wrong types or lengths, sizes past uint64, a proof of the
 * wrong length), and the caller then runs the node:crypto path, which gives the exact error. So this file
 * only has to be right on valid input and safe on any input.
 *
 * Proofs arrive as one Uint8Array of concatenated hashes (native.ts flattens them): reading 32 array
 * elements through Node-API costs ~100 ns each, a third of a whole proof's time.
 *
 * Safety rules, because the arguments are arbitrary JS values:
 * - every byte range comes from napi_get_typedarray_info of a Uint8Array whose length is checked first;
 * - no Node-API call made here runs JS (no getters, no coercions), so no buffer can be detached or
 *   resized while its bytes are read;
 * - the result is computed in locals and written to the output buffer only at the end, after every
 *   input was accepted, so the output may alias any input.
 *
 * SHA-256 comes from the OpenSSL inside the node binary (Node links OpenSSL statically and exports its
 * symbols for addons; a node linked to a shared libcrypto resolves them from that), so building this needs
 * only a C compiler and the Node-API headers.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define HASH_SIZE 32
/* A uint64 tree has at most 64 levels, so no valid proof is longer than this. */
#define MAX_PROOF 64

/*
 * OpenSSL's SHA-256, as exported by the node binary (declared here so no OpenSSL headers are needed).
 * The low-level SHA256_Init/Update/Final (public, ABI-stable since OpenSSL 0.9.8; deprecated but built in
 * 3.x) took ~140 ns per node hash where this was measured, the one-shot SHA256() ~3x that: in OpenSSL 3
 * it goes through EVP_Q_digest, which looks the algorithm up by name on every call. So SHA256() is only
 * the fallback. All weak: a node without them makes module init throw instead of failing at the first call.
 */
typedef union {
  struct {
    unsigned int h[8], Nl, Nh, data[16], num, md_len;
  } s;
  unsigned char room[256]; /* slack in case a build ever grows the struct */
} SHA256_CTX;
extern int SHA256_Init(SHA256_CTX *c) __attribute__((weak));
extern int SHA256_Update(SHA256_CTX *c, const void *data, size_t len) __attribute__((weak));
extern int SHA256_Final(unsigned char *md, SHA256_CTX *c) __attribute__((weak));
extern unsigned char *SHA256(const unsigned char *d, size_t n, unsigned char *md) __attribute__((weak));

static bool low_level;

/* SHA-256(0x01 || left || right), RFC 9162 §2.1.1. `out` may alias either input. */
static void node_hash(uint8_t out[HASH_SIZE], const uint8_t *left, const uint8_t *right) {
  uint8_t buf[1 + 2 * HASH_SIZE];
  buf[0] = 0x01;
  memcpy(buf + 1, left, HASH_SIZE);
  memcpy(buf + 1 + HASH_SIZE, right, HASH_SIZE);
  if (low_level) {
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, buf, sizeof buf);
    SHA256_Final(out, &c);
  } else {
    SHA256(buf, sizeof buf, out);
  }
}

/*
 * SHA-256(prefix || data) into `out` with the low-level functions (see above). False when only the
 * one-shot SHA256() is there: it would need the prefix and data copied into one buffer first, and then the
 * caller's node:crypto path is as good.
 */
static bool prefixed_sha256(uint8_t out[HASH_SIZE], const uint8_t *prefix, size_t prefix_len, const uint8_t *data, size_t len) {
  if (!low_level) return false;
  SHA256_CTX c;
  SHA256_Init(&c);
  if (prefix_len > 0) SHA256_Update(&c, prefix, prefix_len);
  if (len > 0) SHA256_Update(&c, data, len);
  SHA256_Final(out, &c);
  return true;
}

/* The bytes and length of `v` if it is a Uint8Array (a Buffer is one), else false. `*data` may be NULL
   for an empty view. */
static bool uint8_view(napi_env env, napi_value v, void **data, size_t *length) {
  bool is_ta = false;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return false;
  napi_typedarray_type type;
  *data = NULL;
  *length = 0;
  if (napi_get_typedarray_info(env, v, &type, length, data, NULL, NULL) != napi_ok) return false;
  return type == napi_uint8_array;
}

/* The bytes of `v` if it is a Uint8Array of exactly `len` bytes, else NULL. */
static uint8_t *bytes_arg(napi_env env, napi_value v, size_t len) {
  void *data;
  size_t length;
  if (!uint8_view(env, v, &data, &length) || length != len || data == NULL) return NULL;
  return data;
}

/* A BigInt in [0, 2^64) into *out; false for anything else (a Number, a negative or larger BigInt). */
static bool u64_arg(napi_env env, napi_value v, uint64_t *out) {
  bool lossless = false;
  return napi_get_value_bigint_uint64(env, v, out, &lossless) == napi_ok && lossless;
}

/*
 * The concatenated hashes in `v` and their number, if it is a Uint8Array of whole hashes, at most one more
 * than MAX_PROOF (a consistency proof's seed comes first); else NULL.
 */
static const uint8_t *hashes_arg(napi_env env, napi_value v, uint32_t *count) {
  void *data;
  size_t length;
  if (!uint8_view(env, v, &data, &length) || length % HASH_SIZE != 0 || length / HASH_SIZE > MAX_PROOF + 1) return NULL;
  *count = (uint32_t)(length / HASH_SIZE);
  /* An empty view may have no data pointer; nothing is read from it then. */
  return data != NULL ? data : (const uint8_t *)"";
}

static napi_value boolean(napi_env env, bool b) {
  napi_value v;
  napi_get_boolean(env, b, &v);
  return v;
}

/* Fetches exactly n arguments; missing ones are `undefined`, which every *_arg check rejects. */
static bool args(napi_env env, napi_callback_info info, size_t n, napi_value *argv) {
  size_t argc = n;
  return napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok;
}

static int bit_length(uint64_t x) { return x == 0 ? 0 : 64 - __builtin_clzll(x); }

/* nodeHash(out: Uint8Array(32), left: Uint8Array(32), right: Uint8Array(32)): boolean */
static napi_value js_node_hash(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!args(env, info, 3, argv)) return boolean(env, false);
  const uint8_t *left = bytes_arg(env, argv[1], HASH_SIZE);
  const uint8_t *right = bytes_arg(env, argv[2], HASH_SIZE);
  uint8_t *out = bytes_arg(env, argv[0], HASH_SIZE);
  if (left == NULL || right == NULL || out == NULL) return boolean(env, false);
  node_hash(out, left, right); /* copies both inputs before it writes `out` */
  return boolean(env, true);
}

/*
 * leafHash(out: Uint8Array(32), data: Uint8Array): boolean, SHA-256(0x00 || data) (RFC 9162 §2.1.1);
 * sha256(out: Uint8Array(32), data: Uint8Array): boolean, SHA-256(data).
 * One call per entry where node:crypto's one-shot hash costs ~1.5–3 µs of binding overhead, more than
 * hashing a 2 KB body takes (BENCHMARKS.md "Merkle"). The digest goes to a local first, so `out` may
 * alias `data`.
 */
static napi_value digest(napi_env env, napi_callback_info info, const uint8_t *prefix, size_t prefix_len) {
  napi_value argv[2];
  if (!args(env, info, 2, argv)) return boolean(env, false);
  void *data;
  size_t length;
  uint8_t *out = bytes_arg(env, argv[0], HASH_SIZE);
  if (out == NULL || !uint8_view(env, argv[1], &data, &length)) return boolean(env, false);
  uint8_t md[HASH_SIZE];
  if (!prefixed_sha256(md, prefix, prefix_len, data, data != NULL ? length : 0)) return boolean(env, false);
  memcpy(out, md, HASH_SIZE);
  return boolean(env, true);
}

static napi_value js_leaf_hash(napi_env env, napi_callback_info info) {
  static const uint8_t leaf_prefix[1] = {0x00};
  return digest(env, info, leaf_prefix, 1);
}

static napi_value js_sha256(napi_env env, napi_callback_info info) { return digest(env, info, NULL, 0); }

/*
 * inclusionRoot(out: Uint8Array(32), index: bigint, size: bigint, leaf: Uint8Array(32), proof: Uint8Array(32·n)): boolean
 * RFC 9162 §2.1.3.2 in transparency-dev/merkle's decomposition (proof.ts decompInclProof, chainInner,
 * chainBorderRight): `inner` siblings below the right border, left or right by the index bits, then
 * `border` left siblings on the border.
 */
static napi_value js_inclusion_root(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!args(env, info, 5, argv)) return boolean(env, false);
  uint64_t index, size;
  if (!u64_arg(env, argv[1], &index) || !u64_arg(env, argv[2], &size) || index >= size) return boolean(env, false);
  int inner = bit_length(index ^ (size - 1));
  int border = inner == 64 ? 0 : __builtin_popcountll(index >> inner);
  uint32_t len = 0;
  const uint8_t *proof = hashes_arg(env, argv[4], &len);
  const uint8_t *leaf = bytes_arg(env, argv[3], HASH_SIZE);
  uint8_t *out = bytes_arg(env, argv[0], HASH_SIZE);
  if (proof == NULL || len != (uint32_t)(inner + border) || leaf == NULL || out == NULL) return boolean(env, false);
  uint8_t r[HASH_SIZE];
  memcpy(r, leaf, HASH_SIZE);
  for (uint32_t i = 0; i < len; i++) {
    const uint8_t *p = proof + (size_t)i * HASH_SIZE;
    /* Below the border a set index bit puts the sibling on the left; on the border it always is. */
    if ((int)i >= inner || ((index >> i) & 1) == 1) node_hash(r, p, r);
    else node_hash(r, r, p);
  }
  memcpy(out, r, HASH_SIZE);
  return boolean(env, true);
}

/*
 * consistencyRoots(out: Uint8Array(64), size1: bigint, size2: bigint, proof: Uint8Array(32·n), root1: Uint8Array(32)): boolean
 * RFC 9162 §2.1.4.2 steps 1-7 without the final comparisons: writes the recomputed root of size1 and of
 * size2 (fr || sr) into `out`. Only for 0 < size1 < size2 and a non-empty proof (proof.ts handles the
 * other cases); false for a proof that is too long or too short, as for any other refusal.
 */
static napi_value js_consistency_roots(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!args(env, info, 5, argv)) return boolean(env, false);
  uint64_t size1, size2;
  if (!u64_arg(env, argv[1], &size1) || !u64_arg(env, argv[2], &size2) || size1 == 0 || size1 >= size2) return boolean(env, false);
  uint32_t len = 0;
  const uint8_t *proof = hashes_arg(env, argv[3], &len);
  const uint8_t *root1 = bytes_arg(env, argv[4], HASH_SIZE);
  uint8_t *out = bytes_arg(env, argv[0], 2 * HASH_SIZE);
  if (proof == NULL || len == 0 || root1 == NULL || out == NULL) return boolean(env, false);
  uint8_t fr[HASH_SIZE], sr[HASH_SIZE];
  /* Step 1: a power-of-two size1 is a perfect left subtree whose root the proof omits: root1 seeds. */
  uint32_t at = 0;
  if ((size1 & (size1 - 1)) == 0) {
    memcpy(fr, root1, HASH_SIZE);
  } else {
    memcpy(fr, proof, HASH_SIZE);
    at = 1;
  }
  memcpy(sr, fr, HASH_SIZE);
  uint64_t fn = size1 - 1, sn = size2 - 1;
  while ((fn & 1) == 1) {
    fn >>= 1;
    sn >>= 1;
  }
  for (; at < len; at++) {
    if (sn == 0) return boolean(env, false); /* too long */
    const uint8_t *c = proof + (size_t)at * HASH_SIZE;
    if ((fn & 1) == 1 || fn == sn) {
      node_hash(fr, c, fr);
      node_hash(sr, c, sr);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      node_hash(sr, sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return boolean(env, false); /* too short */
  memcpy(out, fr, HASH_SIZE);
  memcpy(out + HASH_SIZE, sr, HASH_SIZE);
  return boolean(env, true);
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  low_level = SHA256_Init != NULL && SHA256_Update != NULL && SHA256_Final != NULL;
  if (!low_level && SHA256 == NULL) {
    napi_throw_error(env, "TLOGWATCH_NATIVE_NO_SHA256", "this node binary does not export OpenSSL's SHA-256 functions");
    return NULL;
  }
  napi_property_descriptor fns[] = {
    {"nodeHash", NULL, js_node_hash, NULL, NULL, NULL, napi_enumerable, NULL},
    {"leafHash", NULL, js_leaf_hash, NULL, NULL, NULL, napi_enumerable, NULL},
    {"sha256", NULL, js_sha256, NULL, NULL, NULL, napi_enumerable, NULL},
    {"inclusionRoot", NULL, js_inclusion_root, NULL, NULL, NULL, napi_enumerable, NULL},
    {"consistencyRoots", NULL, js_consistency_roots, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof fns / sizeof fns[0], fns) != napi_ok) return NULL;
  return exports;
}
