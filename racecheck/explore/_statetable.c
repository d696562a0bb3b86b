/*
 * racecheck.explore._statetable: a compact visited-state table for the
 * packed search (racecheck/explore/packed.py).
 *
 * Table(nbytes, exact) numbers the states it is given in the order it first
 * sees them. A state is a non-negative Python int of at most nbytes bytes.
 * Per state, an arena keeps by number either the state's bytes (exact) or
 * its 64-bit fingerprint (compact: hash compaction, two states with one
 * fingerprint are taken for one). The open-addressing index holds only
 * numbers (4 bytes a slot) and grows at 3/4 full, rehashing from the arena,
 * so that growing never holds two copies of anything but the index.
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
    unsigned char *arena;        /* width bytes per state, by number */
    uint64_t arena_cap;          /* states the arena has room for */
    unsigned char *buf;          /* one state's bytes */
} Table;

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

static int to_bytes(Table *t, PyObject *key) {
    if (!PyLong_Check(key)) {
        PyErr_SetString(PyExc_TypeError, "a state is an int");
        return -1;
    }
#if PY_VERSION_HEX >= 0x030D0000
    return _PyLong_AsByteArray((PyLongObject *)key, t->buf, (size_t)t->nbytes, 1, 0, 1);
#else
    return _PyLong_AsByteArray((PyLongObject *)key, t->buf, (size_t)t->nbytes, 1, 0);
#endif
}

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
    if (!index) { PyErr_NoMemory(); return -1; }
    for (uint64_t sid = 0; sid < t->count; sid++) {
        uint64_t j = (stored_hash(t, sid) >> 7) & mask;
        while (index[j]) j = (j + 1) & mask;
        index[j] = (uint32_t)(sid + 1);
    }
    PyMem_Free(t->index);
    t->index = index; t->capacity = cap;
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

/* The slot of the state in t->buf (hash h): its own, or the empty one it would take. */
static uint64_t lookup(Table *t, uint64_t h) {
    uint64_t mask = t->capacity - 1, j = (h >> 7) & mask;
    while (t->index[j]) {
        unsigned char *e = entry(t, t->index[j] - 1);
        if (t->exact ? memcmp(e, t->buf, (size_t)t->nbytes) == 0 : memcmp(e, &h, 8) == 0)
            return j;
        j = (j + 1) & mask;
    }
    return j;
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
    if (t->count >= 0xfffffffeULL) {
        PyErr_SetString(PyExc_OverflowError, "more than 2**32 - 2 states");
        return NULL;
    }
    uint64_t sid = t->count;
    if (arena_room(t) < 0) return NULL;
    memcpy(entry(t, sid), t->exact ? (void *)t->buf : (void *)&h, (size_t)t->width);
    t->index[j] = (uint32_t)(sid + 1);
    t->count++;
    if (t->count * 4 >= t->capacity * 3 && grow(t) < 0) return NULL;
    return PyLong_FromLongLong(-1 - (long long)sid);
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
    t->arena = NULL; t->arena_cap = 0;
    if (!t->buf || !t->index) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

static void Table_dealloc(Table *t) {
    PyMem_Free(t->buf); PyMem_Free(t->index); PyMem_Free(t->arena);
    Py_TYPE(t)->tp_free((PyObject *)t);
}

static PyMethodDef Table_methods[] = {
    {"add", (PyCFunction)Table_add, METH_O, "add(state) -> number if seen, else -1 - new number"},
    {"find", (PyCFunction)Table_find, METH_O, "find(state) -> number, or -1"},
    {"get", (PyCFunction)Table_get, METH_O, "get(number) -> state (exact tables)"},
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

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_statetable", "Compact visited-state tables.", -1, NULL,
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
