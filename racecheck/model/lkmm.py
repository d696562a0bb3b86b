"""The axioms of the Linux-kernel memory model on one candidate execution.

A translation, relation by relation, of the kernel's
tools/memory-model/linux-kernel.cat (with the sets of linux-kernel.bell
and the lock relations of lock.cat) as of Linux 6.12, the version herd7
was run with to pin racecheck's tests. Each function or local below names
the .cat relation it computes, in the .cat spelling with ``-`` as ``_``.

A candidate execution (``Graph``) is a set of events with program order
and dependencies (from the thread code), reads-from ``rf``, coherence
``co`` and the read-modify-write pairs ``rmw``. ``check`` says whether it
is consistent and, if not, which axiom rejects it first:

    coherence          acyclic po-loc | rf | co | fr
    atomic             empty rmw & (fre ; coe)
    happens-before     acyclic hb
    propagation        acyclic pb
    rcu                irreflexive rb
    plain-coherence    empty wr-incoh | rw-incoh | ww-incoh

and, for consistent executions, the pairs flagged ``data-race``
(ww-race | wr-race | rw-race).

The lock relations are taken as lock.cat leaves them: ``co`` already
orders each lock's LKW and UL events (each UL right after its LKW), ``rf``
already sends each LKR the write just before its LKW in ``co``, and
``rmw`` already holds the lk-rmw pairs; the explorer builds them so.

Not modelled: herd7's ``flag`` checks other than data-race
(mixed-accesses, unmatched-rcu-lock, lock-final and friends), which
change no verdict.
"""

from __future__ import annotations

from dataclasses import dataclass

from .lkmm_events import LOCK_KINDS, READ_KINDS, WRITE_KINDS
from .lkmm_rel import Rel

AXIOMS = ("coherence", "atomic", "happens-before", "propagation", "rcu", "plain-coherence")


@dataclass(frozen=True)
class Graph:
    """A candidate execution: ``events[i].eid == i``; relations over them."""

    events: tuple
    rf: Rel
    co: Rel
    rmw: Rel


@dataclass(frozen=True)
class Verdict:
    """``failed`` is the first axiom violated (None: consistent);
    ``races`` the (earlier, later) event pairs flagged data-race."""

    failed: str | None
    races: tuple = ()

    @property
    def consistent(self) -> bool:
        return self.failed is None


# -- sets (linux-kernel.bell, lock.cat) -------------------------------------------

class Sets:
    """The event sets of the .bell file, as bitmasks."""

    def __init__(self, events, rmw: Rel):
        in_rmw = rmw.domain() | rmw.range()
        self.n = len(events)
        self.all = (1 << self.n) - 1
        mask = _mask
        self.R = mask(events, lambda e: e.kind in READ_KINDS)
        self.W = mask(events, lambda e: e.kind in WRITE_KINDS)
        self.M = self.R | self.W
        self.IW = mask(events, lambda e: e.is_init)
        self.RMW = mask(events, lambda e: e.rmw_instr)   # events of RMW instructions
        self.Acquire = mask(events, lambda e: "acquire" in e.tags) | self.kind(events, "LKR")
        self.Release = mask(events, lambda e: "release" in e.tags) | self.kind(events, "UL")
        self.Mb = mask(events, lambda e: e.kind == "F" and "mb" in e.tags)
        self.Noreturn = mask(events, lambda e: "noreturn" in e.tags)
        self.LKR, self.LKW, self.UL = (self.kind(events, k) for k in ("LKR", "LKW", "UL"))
        self.Srcu_lock = mask(events, lambda e: "srcu-lock" in e.tags)
        self.Srcu_unlock = mask(events, lambda e: "srcu-unlock" in e.tags)
        # Marked = (~M) | IW | Once | Release | Acquire | domain(rmw) | range(rmw) |
        #          LKR | LKW | UL | LF | RL | RU | Srcu-lock | Srcu-unlock
        marked_tags = mask(events, lambda e: e.kind != "F" and bool(e.tags & {"once", "release", "acquire"}))
        locks = mask(events, lambda e: e.kind in LOCK_KINDS)
        self.Marked = ((self.all & ~self.M) | self.IW | marked_tags | in_rmw | locks
                       | self.Srcu_lock | self.Srcu_unlock)
        self.Plain = self.M & ~self.Marked
        self.fence = {tag: mask(events, lambda e, t=tag: e.kind == "F" and t in e.tags)
                      for tag in ("rmb", "wmb", "barrier", "before-atomic", "after-atomic",
                                  "after-spinlock", "after-unlock-lock", "rcu-lock", "rcu-unlock",
                                  "sync-rcu", "sync-srcu", "after-srcu-read-unlock")}

    @staticmethod
    def kind(events, kind: str) -> int:
        return _mask(events, lambda e: e.kind == kind)


def _mask(events, predicate) -> int:
    out = 0
    for e in events:
        if predicate(e):
            out |= 1 << e.eid
    return out


# -- the static relations: po, loc, int/ext, dependencies -------------------------

class Base:
    """Relations fixed by the events alone (not by rf/co): po, loc, int,
    ext and the syntactic dependencies. Shared by every rf/co choice over
    the same thread runs."""

    def __init__(self, events):
        n = len(events)
        self.n = n
        self.po = Rel.of_pairs(n, ((a.eid, b.eid) for a in events for b in events
                                   if a.tid == b.tid and not a.is_init and a.key[1] < b.key[1]))
        self.loc = Rel.of_pairs(n, ((a.eid, b.eid) for a in events for b in events
                                    if a.loc is not None and a.loc == b.loc))
        self.int = Rel.of_pairs(n, ((a.eid, b.eid) for a in events for b in events if a.tid == b.tid))
        self.ext = Rel.cross(n, (1 << n) - 1, (1 << n) - 1) - self.int
        self.po_loc = self.po & self.loc
        eid = {e.key: e.eid for e in events}
        self.addr0 = Rel.of_pairs(n, ((eid[k], e.eid) for e in events for k in e.addr))
        self.data0 = Rel.of_pairs(n, ((eid[k], e.eid) for e in events for k in e.data))
        self.ctrl0 = Rel.of_pairs(n, ((eid[k], e.eid) for e in events for k in e.ctrl))
        self.rcu_rscs = _rcu_rscs(events, n)


def _rcu_rscs(events, n) -> Rel:
    """linux-kernel.bell's rcu-rscs: each rcu_read_lock() paired with its
    matching rcu_read_unlock(), innermost first (a stack per thread)."""
    pairs, stacks = [], {}
    for e in sorted(events, key=lambda e: e.key):
        if e.kind != "F":
            continue
        stack = stacks.setdefault(e.tid, [])
        if "rcu-lock" in e.tags:
            stack.append(e.eid)
        elif "rcu-unlock" in e.tags and stack:
            pairs.append((stack.pop(), e.eid))
    return Rel.of_pairs(n, pairs)


# -- per-location axioms, usable on a partial graph -----------------------------------

def location_consistent(base: Base, rf: Rel, co: Rel, rmw: Rel) -> str | None:
    """The two per-location axioms of linux-kernel.cat, which hold of a
    graph iff they hold of each location's events alone (every relation
    in them links events of one location); the explorer uses this to
    prune before the cross product of locations."""
    fr = rf.inv().seq(co)
    if not (base.po_loc | rf | co | fr).is_acyclic():
        return "coherence"                       # acyclic po-loc | com
    if not (rmw & (fr & base.ext).seq(co & base.ext)).is_empty():
        return "atomic"                          # empty rmw & (fre ; coe)
    return None


# -- the whole model --------------------------------------------------------------

def check(graph: Graph, base: Base | None = None) -> Verdict:
    """Run linux-kernel.cat on ``graph``."""
    base = base or Base(graph.events)
    failed = location_consistent(base, graph.rf, graph.co, graph.rmw)
    if failed:
        return Verdict(failed)
    m = _Model(graph, base)
    return m.verdict()


class _Model:
    """The relations of linux-kernel.cat for one execution; the attribute
    names are the .cat names (``-`` spelled ``_``)."""

    def __init__(self, graph: Graph, base: Base):
        self.s = s = Sets(graph.events, graph.rmw)
        self.b = b = base
        po, I = b.po, (lambda mask: Rel.ident(s.n, mask))
        self.I = I
        rf, co = graph.rf, graph.co
        self.rf, self.co, self.rmw = rf, co, graph.rmw
        self.fr = rf.inv().seq(co)
        self.rfe, self.rfi = rf & b.ext, rf & b.int

        # linux-kernel.bell: carry-srcu-data = (data ; [~Srcu-unlock] ; rf)*
        # srcu-rscs = ([Srcu-lock] ; carry-srcu-data ; data ; [Srcu-unlock]) & loc
        not_unlock = s.all & ~s.Srcu_unlock
        carry_srcu = b.data0.restrict(-1, not_unlock).seq(rf).star()
        self.srcu_rscs = I(s.Srcu_lock).seq(carry_srcu, b.data0).restrict(-1, s.Srcu_unlock) & b.loc
        # carry-dep = (data ; [~Srcu-unlock] ; rfi)*, then
        # addr = carry-dep ; addr, ctrl = carry-dep ; ctrl, data = carry-dep ; data
        carry = b.data0.restrict(-1, not_unlock).seq(self.rfi).star()
        self.addr, self.ctrl, self.data = carry.seq(b.addr0), carry.seq(b.ctrl0), carry.seq(b.data0)

        # Release Acquire
        self.acq_po = po.restrict(s.Acquire, s.M)                          # [Acquire] ; po ; [M]
        self.po_rel = po.restrict(s.M, s.Release)                          # [M] ; po ; [Release]
        # po-unlock-lock-po = po ; [UL] ; (po | rf) ; [LKR] ; po
        self.po_unlock_lock_po = po.seq((po | rf).restrict(s.UL, s.LKR), po)

        # Fences
        self.R4rmb = s.R & ~s.Noreturn
        self.rmb = self.fencerel(s.fence["rmb"]).restrict(self.R4rmb, self.R4rmb)
        self.wmb = self.fencerel(s.fence["wmb"]).restrict(s.W, s.W)
        self.mb = self._mb()
        self.gp = po.seq(I(s.fence["sync-rcu"] | s.fence["sync-srcu"]), po.opt())  # po ; [Sync-rcu | Sync-srcu] ; po?
        self.strong_fence = self.mb | self.gp
        self.nonrw_fence = self.strong_fence | self.po_rel | self.acq_po
        self.fence = self.nonrw_fence | self.wmb | self.rmb
        fs = s.fence
        self.barrier = (self.fencerel(fs["barrier"] | fs["rmb"] | fs["wmb"] | s.Mb | fs["sync-rcu"]
                                      | fs["before-atomic"] | fs["after-atomic"] | s.Acquire | s.Release
                                      | fs["rcu-lock"] | fs["rcu-unlock"] | fs["sync-srcu"] | s.Srcu_lock
                                      | s.Srcu_unlock)
                        | po.restrict(-1, s.Release) | po.restrict(s.Acquire, -1))

    def fencerel(self, mask: int) -> Rel:
        """herd7's stdlib fencerel(S) = po ; [S] ; po"""
        return self.b.po.seq(self.I(mask), self.b.po)

    def _mb(self) -> Rel:
        s, po, M, I = self.s, self.b.po, self.s.M, self.I
        fs = s.fence
        return (self.fencerel(s.Mb).restrict(M, M)                                   # [M]; fencerel(Mb); [M]
                # [M] ; fencerel(Before-atomic) ; [RMW] ; po? ; [M]
                | self.fencerel(fs["before-atomic"]).restrict(M, s.RMW).seq(po.opt()).restrict(-1, M)
                # [M] ; po? ; [RMW] ; fencerel(After-atomic) ; [M]
                | I(M).seq(po.opt()).restrict(-1, s.RMW).seq(self.fencerel(fs["after-atomic"])).restrict(-1, M)
                # [M] ; po? ; [LKW] ; fencerel(After-spinlock) ; [M]
                | I(M).seq(po.opt()).restrict(-1, s.LKW).seq(self.fencerel(fs["after-spinlock"])).restrict(-1, M)
                # [M] ; po-unlock-lock-po ; [After-unlock-lock] ; po ; [M]
                | self.po_unlock_lock_po.restrict(M, fs["after-unlock-lock"]).seq(po).restrict(-1, M)
                # [M] ; po? ; [Srcu-unlock] ; fencerel(After-srcu-read-unlock) ; [M]
                | I(M).seq(po.opt()).restrict(-1, s.Srcu_unlock)
                .seq(self.fencerel(fs["after-srcu-read-unlock"])).restrict(-1, M))

    # -- the axioms after coherence and atomicity ----------------------------------

    def verdict(self) -> Verdict:
        s, b, I = self.s, self.b, self.I
        marked = s.Marked
        # Preserved Program Order
        dep = self.addr | self.data
        rwdep = (dep | self.ctrl).restrict(-1, s.W)
        overwrite = self.co | self.fr
        to_w = rwdep | (overwrite & b.int) | self.addr.restrict(-1, s.Plain).seq(self.wmb)
        to_r = self.addr.restrict(-1, s.R) | dep.restrict(-1, marked).seq(self.rfi)
        ppo = to_r | to_w | (self.fence & b.int) | (self.po_unlock_lock_po & b.int)
        # Propagation: A-cumul(r) = (rfe ; [Marked])? ; r; rmw-sequence = (rf ; rmw)*
        self.rmw_sequence = self.rf.seq(self.rmw).star()
        rfe_m = self.rfe.restrict(-1, marked).opt()
        self.cumul_fence = (rfe_m.seq(self.strong_fence | self.po_rel) | self.wmb
                            | self.po_unlock_lock_po).restrict(marked, marked).seq(self.rmw_sequence)
        # prop = [Marked] ; (overwrite & ext)? ; cumul-fence* ; [Marked] ; rfe? ; [Marked]
        self.prop = ((overwrite & b.ext).opt().restrict(marked, -1)
                     .seq(self.cumul_fence.star()).restrict(-1, marked)
                     .seq(self.rfe.opt()).restrict(-1, marked))
        # hb = [Marked] ; (ppo | rfe | ((prop \ id) & int)) ; [Marked]
        self.hb = (ppo | self.rfe | ((self.prop - I(-1)) & b.int)).restrict(marked, marked)
        if not self.hb.is_acyclic():
            return Verdict("happens-before")
        # pb = prop ; strong-fence ; hb* ; [Marked]
        hb_star = self.hb.star()
        self.pb = self.prop.seq(self.strong_fence, hb_star).restrict(-1, marked)
        if not self.pb.is_acyclic():
            return Verdict("propagation")
        rcu_fence, self.rb = self._rcu(hb_star)
        if not self.rb.is_irreflexive():
            return Verdict("rcu")
        # let fence = fence | rcu-fence; let strong-fence = strong-fence | rcu-fence
        self.fence = self.fence | rcu_fence
        self.strong_fence = self.strong_fence | rcu_fence
        return self._plain()

    def _rcu(self, hb_star: Rel):
        """rcu-link, the recursive rcu-order (least fixed point),
        rcu-fence = po ; rcu-order ; po? and rb."""
        po, I, n, loc = self.b.po, self.I, self.s.n, self.b.loc
        rcu_gp, srcu_gp = I(self.s.fence["sync-rcu"]), I(self.s.fence["sync-srcu"])
        rscsi, srcu_rscsi = self.b.rcu_rscs.inv(), self.srcu_rscs.inv()
        if rcu_gp.is_empty() and srcu_gp.is_empty():
            return Rel.empty(n), Rel.empty(n)
        # rcu-link = po? ; hb* ; pb* ; prop ; po
        link = po.opt().seq(hb_star, self.pb.star(), self.prop, po)
        order = rcu_gp
        while True:
            new = (rcu_gp | srcu_gp
                   | rcu_gp.seq(link, rscsi)
                   | (srcu_gp.seq(link, srcu_rscsi) & loc)
                   | rscsi.seq(link, rcu_gp)
                   | (srcu_rscsi.seq(link, srcu_gp) & loc)
                   | rcu_gp.seq(link, order, link, rscsi)
                   | (srcu_gp.seq(link, order, link, srcu_rscsi) & loc)
                   | rscsi.seq(link, order, link, rcu_gp)
                   | (srcu_rscsi.seq(link, order, link, srcu_gp) & loc)
                   | order.seq(link, order))
            if new == order:
                break
            order = new
        rcu_fence = po.seq(order, po.opt())
        # rb = prop ; rcu-fence ; hb* ; pb* ; [Marked]
        rb = self.prop.seq(rcu_fence, hb_star, self.pb.star()).restrict(-1, self.s.Marked)
        return rcu_fence, rb

    def _plain(self) -> Verdict:
        """Plain accesses: the plain-coherence axiom and data-race flag."""
        s, b = self.s, self.b
        marked, n = s.Marked, s.n
        fence, strong = self.fence, self.strong_fence
        xbstar = (self.hb | self.pb | self.rb).star()
        # vis = cumul-fence* ; rfe? ; [Marked] ; ((strong-fence ; [Marked] ; xbstar) | (xbstar & int))
        vis = (self.cumul_fence.star().seq(self.rfe.opt()).restrict(-1, marked)
               .seq(strong.restrict(-1, marked).seq(xbstar) | (xbstar & b.int)))
        not_noreturn = s.all & ~s.Noreturn
        rmb_fr = self.fencerel(s.fence["rmb"])
        w_pre = (self.addr | fence).opt().restrict(marked, -1)
        r_pre = (self.addr | self.nonrw_fence | rmb_fr.restrict(self.R4rmb, not_noreturn)).opt().restrict(marked, -1)
        w_post = fence.opt().restrict(-1, marked).seq(self.rmw_sequence)
        r_post = (self.nonrw_fence | rmb_fr.restrict(not_noreturn, self.R4rmb)).opt().restrict(-1, marked)
        ww_vis = fence | strong.seq(xbstar, w_pre) | w_post.seq(vis, w_pre)
        wr_vis = fence | strong.seq(xbstar, r_pre) | w_post.seq(vis, r_pre)
        rw_xbstar = fence | r_post.seq(xbstar, w_pre)
        # pre-race = ext & ((Plain * M) | ((M \ IW) * Plain))
        pre_race = b.ext & (Rel.cross(n, s.Plain, s.M) | Rel.cross(n, s.M & ~s.IW, s.Plain))
        incoh = ((pre_race & self.rf & rw_xbstar.inv()) | (pre_race & self.fr & wr_vis.inv())
                 | (pre_race & self.co & ww_vis.inv()))
        if not incoh.is_empty():
            return Verdict("plain-coherence")
        ww_nonrace = (ww_vis & (Rel.cross(n, marked, s.W) | rw_xbstar)
                      & (Rel.cross(n, s.W, marked) | wr_vis))
        races = (((pre_race & self.co) - ww_nonrace)                                  # ww-race
                 | ((pre_race & self.co.opt().seq(self.rf)) - wr_vis - rw_xbstar.inv())  # wr-race
                 | ((pre_race & self.fr) - rw_xbstar))                                # rw-race
        return Verdict(None, tuple(sorted(races.pairs())))


__all__ = ["AXIOMS", "Base", "Graph", "Verdict", "Sets", "check", "location_consistent"]
