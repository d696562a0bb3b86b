/*
 * racecheck.explore._statetable: a compact visited-state table for the
 * packed search (racecheck/explore/packed.py).
 *
 * Table(nbytes, exact) numbers the states it is given in the order it first
 * sees them. A state is a non-negative Python int of at most nbytes bytes.
 * Per state, an arena keeps by number either the state's bytes (exact) or
 * its 64-bit fingerprint (compact: hash compaction, two states with one
 * fingerprint are taken for one). The open-addressing index holds only
 * numbers (4 bytes a slot) and, exact tables, 16 bits of each state's hash
 * (2 bytes a slot: a probe passes other states without reading the arena),
 * and grows at 3/4 full, rehashing from the arena, so that growing never
 * holds two copies of anything but the index.
 *
 * The hash is a fixed function of the state's bytes (no per-process seed),
 * so a run numbers states and collides the same way every time.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    PyObject_HEAD
    Py_ssize_t nbytes;           /* bytes of a state */
    Py_ssize_t width;            /* bytes an arena entry takes: nbytes or 8 */
    int exact;
    uint64_t count;
    uint64_t capacity;           /* index slots, a power of two */
    uint32_t *index;             /* number + 1 per slot; 0: empty */
    uint16_t *tags;              /* exact tables: per slot, 16 bits of its state's hash
                                    (see TAG); compact ones: NULL */
    unsigned char *arena;        /* width bytes per state, by number */
    uint64_t arena_cap;          /* states the arena has room for */
    unsigned char *buf;          /* one state's bytes */
    unsigned char *batch;        /* BATCH states' bytes (store_all), or NULL */
} Table;

/* 16 bits of the hash the slot number is not taken from: a probe meets a
 * state of another tag without reading the arena (a cache miss). */
#define TAG(h) ((uint16_t)((h) >> 48))

static uint64_t mix(uint64_t x) {
    x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27; x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

static uint64_t hash_bytes(const unsigned char *p, Py_ssize_t n) {
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (uint64_t)n;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = mix(h ^ w) + 0x9e3779b97f4a7c15ULL;
        p += 8; n -= 8;
    }
    if (n > 0) {
        uint64_t w = 0;
        memcpy(&w, p, (size_t)n);
        h = mix(h ^ w) + 0x9e3779b97f4a7c15ULL;
    }
    return mix(h);
}

/* The state `key` in nbytes bytes at `out`. */
static int bytes_at(Table *t, PyObject *key, unsigned char *out) {
    if (!PyLong_Check(key)) {
        PyErr_SetString(PyExc_TypeError, "a state is an int");
        return -1;
    }
#if PY_VERSION_HEX >= 0x030D0000
    return _PyLong_AsByteArray((PyLongObject *)key, out, (size_t)t->nbytes, 1, 0, 1);
#else
    return _PyLong_AsByteArray((PyLongObject *)key, out, (size_t)t->nbytes, 1, 0);
#endif
}

static int to_bytes(Table *t, PyObject *key) { return bytes_at(t, key, t->buf); }

static unsigned char *entry(Table *t, uint64_t sid) {
    return t->arena + sid * (uint64_t)t->width;
}

/* The hash of a stored state, from its arena entry. */
static uint64_t stored_hash(Table *t, uint64_t sid) {
    if (t->exact) return hash_bytes(entry(t, sid), t->nbytes);
    uint64_t h;
    memcpy(&h, entry(t, sid), 8);
    return h;
}

static int grow(Table *t) {
    uint64_t cap = t->capacity * 2, mask = cap - 1;
    uint32_t *index = PyMem_Calloc(cap, sizeof(uint32_t));
    uint16_t *tags = t->tags ? PyMem_Calloc(cap, sizeof(uint16_t)) : NULL;
    if (!index || (t->tags && !tags)) {
        PyMem_Free(index); PyMem_Free(tags);
        PyErr_NoMemory();
        return -1;
    }
    for (uint64_t sid = 0; sid < t->count; sid++) {
        uint64_t h = stored_hash(t, sid), j = (h >> 7) & mask;
        while (index[j]) j = (j + 1) & mask;
        index[j] = (uint32_t)(sid + 1);
        if (tags) tags[j] = TAG(h);
    }
    PyMem_Free(t->index); PyMem_Free(t->tags);
    t->index = index; t->tags = tags; t->capacity = cap;
    return 0;
}

static int arena_room(Table *t) {
    if (t->count < t->arena_cap) return 0;
    uint64_t cap = t->arena_cap ? t->arena_cap + t->arena_cap / 4 : 4096;
    unsigned char *arena = PyMem_Realloc(t->arena, cap * (uint64_t)t->width);
    if (!arena) { PyErr_NoMemory(); return -1; }
    t->arena = arena; t->arena_cap = cap;
    return 0;
}

/* The slot of the state `key` (hash h): its own, or the empty one it would take. */
static uint64_t lookup_key(Table *t, const unsigned char *key, uint64_t h) {
    uint64_t mask = t->capacity - 1, j = (h >> 7) & mask;
    uint16_t tag = TAG(h);
    while (t->index[j]) {
        if (!t->tags || t->tags[j] == tag) {
            unsigned char *e = entry(t, t->index[j] - 1);
            if (t->exact ? memcmp(e, key, (size_t)t->nbytes) == 0 : memcmp(e, &h, 8) == 0)
                return j;
        }
        j = (j + 1) & mask;
    }
    return j;
}

static uint64_t lookup(Table *t, uint64_t h) { return lookup_key(t, t->buf, h); }

/* Number the state `key` (hash h), new, in the empty slot j. */
static int insert_key(Table *t, uint64_t j, const unsigned char *key, uint64_t h) {
    if (t->count >= 0x7fffffffULL) {
        PyErr_SetString(PyExc_OverflowError, "more than 2**31 - 1 states");
        return -1;
    }
    uint64_t sid = t->count;
    if (arena_room(t) < 0) return -1;
    memcpy(entry(t, sid), t->exact ? (const void *)key : (const void *)&h, (size_t)t->width);
    t->index[j] = (uint32_t)(sid + 1);
    if (t->tags) t->tags[j] = TAG(h);
    t->count++;
    if (t->count * 4 >= t->capacity * 3 && grow(t) < 0) return -1;
    return 0;
}

/* find(state) -> its number, or -1 */
static PyObject *Table_find(Table *t, PyObject *key) {
    if (to_bytes(t, key) < 0) return NULL;
    uint64_t j = lookup(t, hash_bytes(t->buf, t->nbytes));
    return PyLong_FromLongLong(t->index[j] ? (long long)t->index[j] - 1 : -1);
}

/* add(state) -> its number if seen before, else -1 - (its new number) */
static PyObject *Table_add(Table *t, PyObject *key) {
    if (to_bytes(t, key) < 0) return NULL;
    uint64_t h = hash_bytes(t->buf, t->nbytes);
    uint64_t j = lookup(t, h);
    if (t->index[j]) return PyLong_FromUnsignedLong(t->index[j] - 1);
    uint64_t sid = t->count;
    if (insert_key(t, j, t->buf, h) < 0) return NULL;
    return PyLong_FromLongLong(-1 - (long long)sid);
}

/* -- storing successors (the packed search's inner loop) --------------------
 *
 * The graph a search keeps beside the table, all appended to in order:
 *   next    bytearray, the new states' bytes (the next level)
 *   parents bytearray, per new state its parent's number (native int32)
 *   fresh   list or None: the new states themselves (to be checked)
 *   edges   bytearray or None: per successor seen before, its number in
 *           `width` bytes (3, or 4 once the table holds `wide_from` states)
 *   outs    bytearray or None (with edges): per state expanded, how many
 *           edges it stored, 255 for 255 or more (then `many[sid]` = count)
 */
typedef struct {
    PyObject *next, *parents, *fresh, *edges, *outs, *many;
    int width;
    uint64_t wide_from;
} Graph;

static int parse_graph(PyObject *const *args, Graph *g) {
    g->next = args[0]; g->parents = args[1]; g->fresh = args[2];
    g->edges = args[3]; g->outs = args[5]; g->many = args[6];
    long width = PyLong_AsLong(args[4]);
    unsigned long long wide_from = PyLong_AsUnsignedLongLong(args[7]);
    if (PyErr_Occurred()) return -1;
    if (!PyByteArray_Check(g->next) || !PyByteArray_Check(g->parents)
            || (g->fresh != Py_None && !PyList_Check(g->fresh))
            || (g->edges != Py_None && (!PyByteArray_Check(g->edges) || !PyByteArray_Check(g->outs)
                                        || !PyDict_Check(g->many)))
            || (width != 3 && width != 4)) {
        PyErr_SetString(PyExc_TypeError, "bad graph arguments");
        return -1;
    }
    g->width = (int)width; g->wide_from = wide_from;
    return 0;
}

static int append_bytes(PyObject *array, const void *data, Py_ssize_t n) {
    Py_ssize_t len = PyByteArray_GET_SIZE(array);
    if (PyByteArray_Resize(array, len + n) < 0) return -1;
    memcpy(PyByteArray_AS_STRING(array) + len, data, (size_t)n);
    return 0;
}

/* Edges of 3 bytes become edges of 4, in place. */
static int widen_edges(Graph *g) {
    Py_ssize_t n = PyByteArray_GET_SIZE(g->edges) / 3;
    if (PyByteArray_Resize(g->edges, n * 4) < 0) return -1;
    unsigned char *e = (unsigned char *)PyByteArray_AS_STRING(g->edges);
    for (Py_ssize_t k = n - 1; k >= 0; k--) {
        unsigned char b0 = e[3 * k], b1 = e[3 * k + 1], b2 = e[3 * k + 2];
        e[4 * k] = b0; e[4 * k + 1] = b1; e[4 * k + 2] = b2; e[4 * k + 3] = 0;
    }
    g->width = 4;
    return 0;
}

/* Number the successors of state `sid`, store the graph around them. They
 * are taken BATCH at a time: first every one's bytes and hash, asking the
 * processor for its index slot (and then for the arena entry that slot
 * points to), so that the cache misses of a batch overlap; then in order. */
#define BATCH 32
#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)(p))
#endif

static int store_all(Table *t, PyObject *succs, long long sid, Graph *g) {
    Py_ssize_t n = PyList_GET_SIZE(succs), edges = 0;
    int32_t parent = (int32_t)sid;
    uint64_t hashes[BATCH];
    if (!t->batch) {
        t->batch = PyMem_Malloc((size_t)t->nbytes * BATCH);
        if (!t->batch) { PyErr_NoMemory(); return -1; }
    }
    for (Py_ssize_t base = 0; base < n; base += BATCH) {
        Py_ssize_t m = n - base < BATCH ? n - base : BATCH;
        uint64_t mask = t->capacity - 1;
        for (Py_ssize_t k = 0; k < m; k++) {
            unsigned char *key = t->batch + k * t->nbytes;
            if (bytes_at(t, PyList_GET_ITEM(succs, base + k), key) < 0) return -1;
            hashes[k] = hash_bytes(key, t->nbytes);
            uint64_t j = (hashes[k] >> 7) & mask;
            PREFETCH(t->index + j);
            if (t->tags) PREFETCH(t->tags + j);
        }
        for (Py_ssize_t k = 0; k < m; k++) {
            uint64_t j = (hashes[k] >> 7) & mask;
            if (t->index[j] && (!t->tags || t->tags[j] == TAG(hashes[k])))
                PREFETCH(entry(t, t->index[j] - 1));
        }
        for (Py_ssize_t k = 0; k < m; k++) {
            unsigned char *key = t->batch + k * t->nbytes;
            uint64_t h = hashes[k], j = lookup_key(t, key, h);
            if (t->index[j]) {
                if (g->edges != Py_None) {
                    uint32_t r = t->index[j] - 1;
                    unsigned char e[4] = {r & 255, (r >> 8) & 255, (r >> 16) & 255, r >> 24};
                    if (append_bytes(g->edges, e, g->width) < 0) return -1;
                    edges++;
                }
                continue;
            }
            uint64_t new = t->count;
            if (insert_key(t, j, key, h) < 0) return -1;
            if (append_bytes(g->next, key, t->nbytes) < 0) return -1;
            if (append_bytes(g->parents, &parent, 4) < 0) return -1;
            if (g->fresh != Py_None && PyList_Append(g->fresh, PyList_GET_ITEM(succs, base + k)) < 0) return -1;
            if (g->edges != Py_None && new == g->wide_from && g->width == 3 && widen_edges(g) < 0) return -1;
        }
    }
    if (g->edges != Py_None) {
        unsigned char count = edges < 255 ? (unsigned char)edges : 255;
        if (append_bytes(g->outs, &count, 1) < 0) return -1;
        if (edges >= 255) {
            PyObject *key = PyLong_FromLongLong(sid), *value = PyLong_FromSsize_t(edges);
            int err = !key || !value || PyDict_SetItem(g->many, key, value) < 0;
            Py_XDECREF(key); Py_XDECREF(value);
            if (err) return -1;
        }
    }
    return 0;
}

/* store(succs, sid, next, parents, fresh, edges, width, outs, many, wide_from) -> width */
static PyObject *Table_store(Table *t, PyObject *const *args, Py_ssize_t nargs) {
    Graph g;
    if (nargs != 10) {
        PyErr_SetString(PyExc_TypeError, "store takes 10 arguments");
        return NULL;
    }
    if (!PyList_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "successors are a list");
        return NULL;
    }
    long long sid = PyLong_AsLongLong(args[1]);
    if (PyErr_Occurred() || parse_graph(args + 2, &g) < 0) return NULL;
    if (store_all(t, args[0], sid, &g) < 0) return NULL;
    return PyLong_FromLong(g.width);
}

/* expand_level(expand, level, start, stop, first, next, parents, fresh,
 *              edges, width, outs, many, wide_from, limit)
 *   -> (index, transitions, width, status)
 * Expands the states level[start:stop] (`nbytes` bytes each; the state at
 * index i is number first + i) with `expand(state) -> [successor, ...]`
 * and stores their successors. Stops before a state for which expand
 * raises an Exception or returns no successor (status 1: the caller takes
 * it the careful way), after a state that leaves the table holding `limit`
 * states or more (limit >= 0) with a non-empty next level (status 2), or
 * at `stop` (status 0). */
static PyObject *Table_expand_level(Table *t, PyObject *const *args, Py_ssize_t nargs) {
    Graph g;
    Py_buffer level;
    if (nargs != 14) {
        PyErr_SetString(PyExc_TypeError, "expand_level takes 14 arguments");
        return NULL;
    }
    PyObject *expand = args[0];
    Py_ssize_t start = PyLong_AsSsize_t(args[2]), stop = PyLong_AsSsize_t(args[3]);
    unsigned long long first = PyLong_AsUnsignedLongLong(args[4]);
    long long limit = PyLong_AsLongLong(args[13]);
    if (PyErr_Occurred() || parse_graph(args + 5, &g) < 0) return NULL;
    if (PyObject_GetBuffer(args[1], &level, PyBUF_SIMPLE) < 0) return NULL;
    if (start < 0 || stop * t->nbytes > level.len) {
        PyBuffer_Release(&level);
        PyErr_SetString(PyExc_IndexError, "level out of range");
        return NULL;
    }
    const unsigned char *states = level.buf;
    long long transitions = 0;
    int status = 0;
    Py_ssize_t i;
    for (i = start; i < stop; i++) {
        PyObject *s = _PyLong_FromByteArray(states + i * t->nbytes, (size_t)t->nbytes, 1, 0);
        if (!s) goto error;
        PyObject *succs = PyObject_CallOneArg(expand, s);
        Py_DECREF(s);
        if (!succs) {
            if (!PyErr_ExceptionMatches(PyExc_Exception)) goto error;
            PyObject *type, *value, *tb;     /* the careful way; drop the traceback */
            PyErr_Fetch(&type, &value, &tb);
            PyErr_NormalizeException(&type, &value, &tb);
            if (value) PyException_SetTraceback(value, Py_None);
            Py_XDECREF(type); Py_XDECREF(value); Py_XDECREF(tb);
            status = 1;
            break;
        }
        if (!PyList_CheckExact(succs) || PyList_GET_SIZE(succs) == 0) {
            int bad = !PyList_CheckExact(succs);
            Py_DECREF(succs);
            if (bad) {
                PyErr_SetString(PyExc_TypeError, "expand returns a list");
                goto error;
            }
            status = 1;
            break;
        }
        transitions += PyList_GET_SIZE(succs);
        int err = store_all(t, succs, (long long)first + i, &g);
        Py_DECREF(succs);
        if (err < 0) goto error;
        if (limit >= 0 && t->count >= (unsigned long long)limit && PyByteArray_GET_SIZE(g.next) > 0) {
            status = 2;
            i++;
            break;
        }
    }
    PyBuffer_Release(&level);
    return Py_BuildValue("nLii", i, transitions, g.width, status);
error:
    PyBuffer_Release(&level);
    return NULL;
}

/* get(number) -> the state (exact tables only) */
static PyObject *Table_get(Table *t, PyObject *arg) {
    if (!t->exact) {
        PyErr_SetString(PyExc_ValueError, "a compact table keeps no states");
        return NULL;
    }
    unsigned long long sid = PyLong_AsUnsignedLongLong(arg);
    if (PyErr_Occurred()) return NULL;
    if (sid >= t->count) {
        PyErr_SetString(PyExc_IndexError, "no such state");
        return NULL;
    }
    return _PyLong_FromByteArray(entry(t, sid), (size_t)t->nbytes, 1, 0);
}

/* slice(lo, hi) -> the bytes of states lo .. hi - 1, nbytes each (exact tables only) */
static PyObject *Table_slice(Table *t, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "slice takes 2 arguments");
        return NULL;
    }
    if (!t->exact) {
        PyErr_SetString(PyExc_ValueError, "a compact table keeps no states");
        return NULL;
    }
    unsigned long long lo = PyLong_AsUnsignedLongLong(args[0]), hi = PyLong_AsUnsignedLongLong(args[1]);
    if (PyErr_Occurred()) return NULL;
    if (lo > hi || hi > t->count) {
        PyErr_SetString(PyExc_IndexError, "no such states");
        return NULL;
    }
    return PyBytes_FromStringAndSize((const char *)entry(t, lo), (Py_ssize_t)((hi - lo) * (uint64_t)t->nbytes));
}

static Py_ssize_t Table_len(Table *t) { return (Py_ssize_t)t->count; }

static int Table_init(Table *t, PyObject *args, PyObject *kwds) {
    static char *names[] = {"nbytes", "exact", NULL};
    Py_ssize_t nbytes;
    int exact = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "n|p", names, &nbytes, &exact)) return -1;
    if (nbytes < 1) {
        PyErr_SetString(PyExc_ValueError, "nbytes must be at least 1");
        return -1;
    }
    t->nbytes = nbytes; t->exact = exact; t->width = exact ? nbytes : 8;
    t->count = 0; t->capacity = 1024;
    t->buf = PyMem_Malloc((size_t)nbytes);
    t->index = PyMem_Calloc(t->capacity, sizeof(uint32_t));
    /* a compact table keeps no tags: a fingerprint is as cheap to compare,
     * and it is the table that must stay small */
    t->tags = exact ? PyMem_Calloc(t->capacity, sizeof(uint16_t)) : NULL;
    t->arena = NULL; t->arena_cap = 0; t->batch = NULL;
    if (!t->buf || !t->index || (exact && !t->tags)) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

static void Table_dealloc(Table *t) {
    PyMem_Free(t->buf); PyMem_Free(t->index); PyMem_Free(t->tags); PyMem_Free(t->arena);
    PyMem_Free(t->batch);
    Py_TYPE(t)->tp_free((PyObject *)t);
}

static PyMethodDef Table_methods[] = {
    {"add", (PyCFunction)Table_add, METH_O, "add(state) -> number if seen, else -1 - new number"},
    {"find", (PyCFunction)Table_find, METH_O, "find(state) -> number, or -1"},
    {"get", (PyCFunction)Table_get, METH_O, "get(number) -> state (exact tables)"},
    {"slice", (PyCFunction)(void (*)(void))Table_slice, METH_FASTCALL,
     "slice(lo, hi) -> the bytes of states lo .. hi - 1 (exact tables)"},
    {"store", (PyCFunction)(void (*)(void))Table_store, METH_FASTCALL,
     "store(succs, sid, next, parents, fresh, edges, width, outs, many, wide_from) -> width"},
    {"expand_level", (PyCFunction)(void (*)(void))Table_expand_level, METH_FASTCALL,
     "expand_level(expand, level, start, stop, first, next, parents, fresh, edges, width, outs, many,"
     " wide_from, limit) -> (index, transitions, width, status)"},
    {NULL}
};

static PySequenceMethods Table_seq = {.sq_length = (lenfunc)Table_len};

static PyTypeObject TableType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "racecheck.explore._statetable.Table",
    .tp_basicsize = sizeof(Table),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Numbers states (non-negative ints of at most nbytes bytes) compactly.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Table_init,
    .tp_dealloc = (destructor)Table_dealloc,
    .tp_methods = Table_methods,
    .tp_as_sequence = &Table_seq,
};

/* sweep(parent, out, many, edges, width, can_end, lo, hi, end) -> (changed, end)
 * One step of the livelock check's backward sweep (explore/packed.py,
 * _find_livelock) over states hi - 1 down to lo: a state whose stored
 * edges (the `end` edges before `end`, out[sid] of them, many[sid] when
 * 255) reach a state marked in can_end is marked, and a marked state
 * marks its parent. */
static PyObject *sweep(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    Py_buffer parent, out, edges, can;
    if (nargs != 9) {
        PyErr_SetString(PyExc_TypeError, "sweep takes 9 arguments");
        return NULL;
    }
    PyObject *many = args[2];
    long width = PyLong_AsLong(args[4]);
    Py_ssize_t lo = PyLong_AsSsize_t(args[6]), hi = PyLong_AsSsize_t(args[7]);
    Py_ssize_t end = PyLong_AsSsize_t(args[8]);
    if (PyErr_Occurred()) return NULL;
    if (!PyDict_Check(many) || (width != 3 && width != 4)) {
        PyErr_SetString(PyExc_TypeError, "bad sweep arguments");
        return NULL;
    }
    if (PyObject_GetBuffer(args[0], &parent, PyBUF_SIMPLE) < 0) return NULL;
    if (PyObject_GetBuffer(args[1], &out, PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(&parent);
        return NULL;
    }
    if (PyObject_GetBuffer(args[3], &edges, PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(&parent); PyBuffer_Release(&out);
        return NULL;
    }
    if (PyObject_GetBuffer(args[5], &can, PyBUF_WRITABLE) < 0) {
        PyBuffer_Release(&parent); PyBuffer_Release(&out); PyBuffer_Release(&edges);
        return NULL;
    }
    const int32_t *up = parent.buf;
    const unsigned char *counts = out.buf, *to = edges.buf;
    unsigned char *mark = can.buf;
    Py_ssize_t states = can.len, nedges = edges.len / width;
    int changed = 0, bad = lo < 0 || hi > states || hi > out.len || hi * 4 > parent.len || end > nedges;
    for (Py_ssize_t sid = hi - 1; !bad && sid >= lo; sid--) {
        Py_ssize_t count = counts[sid];
        if (count == 255) {
            PyObject *key = PyLong_FromSsize_t(sid);
            if (!key) goto error;
            PyObject *value = PyDict_GetItemWithError(many, key);
            Py_DECREF(key);
            if (!value) {
                if (!PyErr_Occurred()) PyErr_SetString(PyExc_KeyError, "edge count missing");
                goto error;
            }
            count = PyLong_AsSsize_t(value);
            if (count < 0 && PyErr_Occurred()) goto error;
        }
        Py_ssize_t first = end - count;
        if (first < 0) { bad = 1; break; }
        if (!mark[sid]) {
            for (Py_ssize_t k = first; k < end; k++) {
                const unsigned char *e = to + k * width;
                uint32_t target = e[0] | (uint32_t)e[1] << 8 | (uint32_t)e[2] << 16
                                  | (width == 4 ? (uint32_t)e[3] << 24 : 0);
                if (target >= (uint32_t)states) { bad = 1; break; }
                if (mark[target]) {
                    mark[sid] = 1;
                    changed = 1;
                    break;
                }
            }
        }
        end = first;
        if (mark[sid]) {
            int32_t p = up[sid];
            if (p >= states) { bad = 1; break; }
            if (p >= 0 && !mark[p]) {
                mark[p] = 1;
                changed = 1;
            }
        }
    }
    PyBuffer_Release(&parent); PyBuffer_Release(&out); PyBuffer_Release(&edges); PyBuffer_Release(&can);
    if (bad) {
        PyErr_SetString(PyExc_IndexError, "sweep out of range");
        return NULL;
    }
    return Py_BuildValue("Nn", PyBool_FromLong(changed), end);
error:
    PyBuffer_Release(&parent); PyBuffer_Release(&out); PyBuffer_Release(&edges); PyBuffer_Release(&can);
    return NULL;
}

/* value_fingerprint(value) -> int
 * A 64-bit fingerprint of a state of the interpreted search (a tuple of
 * None, bools, ints, strs, records and tuples of them), for its hash
 * compaction (explore/search.py). Unlike Python's hash it is the same in
 * every process (strings are not salted) and has no built-in collisions
 * (Python hashes -1 and -2 alike, and ints that differ by 2**61 - 1); like
 * it, it is equal for equal values (True and 1). A record's shape (an
 * object with a `fields` tuple) counts by its field names, an object
 * without data (a placeholder) by its type's name. Mirrored in
 * statetable.py (value_fingerprint). */
#define FP_NONE 0x243f6a8885a308d3ULL
#define FP_INT 0x13198a2e03707344ULL
#define FP_BIG 0xa4093822299f31d0ULL
#define FP_STR 0x082efa98ec4e6c89ULL
#define FP_TUPLE 0x452821e638d01377ULL
#define FP_SHAPE 0xbe5466cf34e90c6cULL
#define FP_OTHER 0xc0ac29b7c97c50ddULL
#define FP_DEPTH 64

static int fp_value(PyObject *v, uint64_t *out, int depth) {
    if (depth > FP_DEPTH) {
        PyErr_SetString(PyExc_ValueError, "a state value nested too deep");
        return -1;
    }
    if (v == Py_None) {
        *out = mix(FP_NONE);
        return 0;
    }
    if (PyLong_Check(v)) {
        int overflow;
        long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
        if (x == -1 && PyErr_Occurred()) return -1;
        if (!overflow) {
            *out = mix((uint64_t)x + FP_INT);
            return 0;
        }
        int64_t bits = (int64_t)_PyLong_NumBits(v);
        if (bits < 0) return -1;
        size_t n = (size_t)(bits / 8 + 1);
        unsigned char *buf = PyMem_Malloc(n);
        if (!buf) { PyErr_NoMemory(); return -1; }
#if PY_VERSION_HEX >= 0x030D0000
        int err = _PyLong_AsByteArray((PyLongObject *)v, buf, n, 1, 1, 1);
#else
        int err = _PyLong_AsByteArray((PyLongObject *)v, buf, n, 1, 1);
#endif
        if (err == 0) *out = hash_bytes(buf, (Py_ssize_t)n) ^ FP_BIG;
        PyMem_Free(buf);
        return err;
    }
    if (PyUnicode_Check(v)) {
        Py_ssize_t n;
        const char *text = PyUnicode_AsUTF8AndSize(v, &n);
        if (!text) return -1;
        *out = hash_bytes((const unsigned char *)text, n) ^ FP_STR;
        return 0;
    }
    if (PyTuple_Check(v)) {
        Py_ssize_t n = PyTuple_GET_SIZE(v);
        uint64_t h = FP_TUPLE ^ (uint64_t)n, item;
        for (Py_ssize_t k = 0; k < n; k++) {
            if (fp_value(PyTuple_GET_ITEM(v, k), &item, depth + 1) < 0) return -1;
            h = mix(h ^ item) + 0x9e3779b97f4a7c15ULL;
        }
        *out = mix(h);
        return 0;
    }
    PyTypeObject *type = Py_TYPE(v);
    if (type->tp_basicsize == sizeof(PyObject) && type->tp_dictoffset == 0) {
        /* an object without data, such as dead-value merging's placeholder:
           by its type's name */
        const char *name = type->tp_name;
        *out = hash_bytes((const unsigned char *)name, (Py_ssize_t)strlen(name)) ^ FP_OTHER;
        return 0;
    }
    PyObject *fields = PyObject_GetAttrString(v, "fields");
    if (!fields || !PyTuple_Check(fields)) {
        Py_XDECREF(fields);
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "no fingerprint for a state value of type %s", type->tp_name);
        return -1;
    }
    int err = fp_value(fields, out, depth + 1);
    Py_DECREF(fields);
    *out ^= FP_SHAPE;
    return err;
}

static PyObject *value_fingerprint(PyObject *self, PyObject *value) {
    uint64_t h;
    if (fp_value(value, &h, 0) < 0) return NULL;
    return PyLong_FromUnsignedLongLong(h);
}

static PyMethodDef module_methods[] = {
    {"sweep", (PyCFunction)(void (*)(void))sweep, METH_FASTCALL,
     "sweep(parent, out, many, edges, width, can_end, lo, hi, end) -> (changed, end)"},
    {"value_fingerprint", (PyCFunction)value_fingerprint, METH_O,
     "value_fingerprint(value) -> the 64-bit fingerprint of a state value"},
    {NULL}
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_statetable", "Compact visited-state tables.", -1, module_methods,
};

PyMODINIT_FUNC PyInit__statetable(void) {
    if (PyType_Ready(&TableType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    Py_INCREF(&TableType);
    if (PyModule_AddObject(m, "Table", (PyObject *)&TableType) < 0) {
        Py_DECREF(&TableType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
