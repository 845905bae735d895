//! The scheduler's operators as types, laid out as TiCDC's `maintainer/operator/` is: one file
//! per kind ([`add`], [`remove`], `move`, [`split`], [`merge`]), each with its own fields and
//! tests, behind one life cycle ([`Operator`]), owned by one controller ([`Operators`]).
//!
//! | operator | commands | finishes on | `PostFinish` (reference ordering) | floor |
//! |---|---|---|---|---|
//! | add(dest) | Create to dest | dest: Working | `+id` on dest | the span's checkpoint |
//! | remove(node) | Remove to node | node: Stopped | `-id` on node | none (the table is gone) |
//! | move(origin, dest) | Remove to origin, then Create to dest | dest: Working | `+id` on dest (moves it) | the span's checkpoint |
//! | split(origin) | Remove to origin | origin: Stopped | `-id` on origin; new spans absent, placed by adds | the span's checkpoint |
//! | merge(node) | Merge to node | node: merged Working | `+merged -sources` on node | the spans are scheduling |
//!
//! Each operator states the expected-set change it makes ([`Operator::change`]); *when* it is
//! made is the one ordering decision, [`Ordering::applies_at`]: under [`Ordering::Eager`] when
//! the operator starts (and undone on the abort paths), under [`Ordering::Reference`] in its
//! `PostFinish`. Abort paths: a move whose destination goes away ends *as absent* (the ID leaves
//! the origin's expected set at once); an add or split whose node goes away leaves the span
//! absent; a table dropped while its move, split or merge runs *replaces* that operator
//! ([`Operator::on_task_removed`]): a move is cancelled without its final change, a split or merge
//! takes its abort path, and a remove operator takes over, addressed to the node the span was
//! bound to when the drop was seen.
//!
//! Every ID an operator changes is marked in flight on the nodes it touches for the operator's
//! life; only the explained-mismatch gate reads those marks.

pub mod add;
pub mod merge;
#[path = "move.rs"]
pub mod r#move;
pub mod remove;
pub mod split;

use super::expected::{ExpectedSets, SetChange, Transition};
use super::spans::SpanBook;
use super::{short, Command, OperatorKind};
use crate::config::Ordering;
use crate::protocol::MaintainerProtocol;
use crate::trace::Tracer;
use crate::world::World;
use crate::zoo::ZooBug;
use dispatcher_checksum::protocol::{Mode, NodeId};
use dispatcher_checksum::{ComponentState, DispatcherId};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// When in an operator's life its expected-set change can be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Moment {
    /// When it starts, before its first command.
    Start,
    /// In its `PostFinish`, after the node reported the change.
    PostFinish,
}

impl Ordering {
    /// The one ordering decision: whether the expected sets change at `moment`.
    pub const fn applies_at(self, moment: Moment) -> bool {
        matches!(
            (self, moment),
            (Ordering::Eager, Moment::Start) | (Ordering::Reference, Moment::PostFinish)
        )
    }
}

/// Where an operator is in its life, as it describes itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for Working from the destination (add; move after the origin stopped).
    AddDest,
    /// Waiting for the origin to stop (move, split, remove).
    RemoveOrigin,
    /// A move whose destination went away: waiting for the origin to stop, then absent.
    AbortRemoveOrigin,
    /// Waiting for the merged dispatcher to be Working.
    Merging,
}

/// What an event makes of an operator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// Nothing yet.
    Wait,
    /// A new phase whose command goes out now.
    Send(Command),
    /// Done: its `PostFinish` runs.
    Finish,
    /// Done without its change: the span is absent ([`Operator::finish_as_absent`]).
    Absent,
    /// A merge given up ([`Operator::abort`]): by the loss of its node, or not.
    Abort {
        /// Whether its node went away.
        node_lost: bool,
    },
    /// A move replaced by a table drop: done without its final change ([`Operator::cancel`]).
    Cancel,
}

/// What every operator keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Common {
    /// Its mode.
    pub mode: Mode,
    /// The span it is keyed by (a merge: the merged span).
    pub span: DispatcherId,
    /// When its current command was last sent.
    pub last_sent: u64,
    /// The IDs it marked in flight.
    pub transitions: Vec<Transition>,
}

impl Common {
    /// An operator of `mode` on `span`, started at `now`.
    pub fn new(mode: Mode, span: DispatcherId, now: u64) -> Common {
        Common {
            mode,
            span,
            last_sent: now,
            transitions: Vec::new(),
        }
    }
}

/// What an operator's life-cycle methods may touch: the span book, the expected sets (with
/// the protocol's trackers), the truth (a split or merge replaces spans), the clock and the
/// trace.
pub struct Context<'a> {
    /// The clock.
    pub now: u64,
    /// The ordering.
    pub ordering: Ordering,
    /// The span book.
    pub spans: &'a mut SpanBook,
    /// The oracle and the lingering marks.
    pub sets: &'a mut ExpectedSets,
    /// The protocol side (its trackers).
    pub side: &'a mut dyn MaintainerProtocol,
    /// The live members.
    pub members: &'a BTreeSet<NodeId>,
    /// The truth.
    pub world: &'a mut World,
    /// The trace.
    pub tracer: &'a mut Tracer,
    /// The zoo bug whose rules the operators follow.
    pub zoo: ZooBug,
}

impl Context<'_> {
    /// Makes `change` if the ordering makes changes at `moment`.
    pub fn change_at(&mut self, moment: Moment, mode: Mode, change: &SetChange) {
        if self.ordering.applies_at(moment) {
            self.sets.apply(self.side, mode, change);
        }
    }

    /// Whether the change was made when the operator started.
    pub fn changed_at_start(&self) -> bool {
        self.ordering.applies_at(Moment::Start)
    }

    /// Undoes `change` if it was made at the start.
    pub fn undo_start(&mut self, mode: Mode, change: &SetChange) {
        if self.changed_at_start() {
            if let Some(inverse) = change.inverse() {
                self.sets.apply(self.side, mode, &inverse);
            }
        }
    }

    /// Makes `change` now, whatever the ordering.
    pub fn change_now(&mut self, mode: Mode, change: &SetChange) {
        self.sets.apply(self.side, mode, change);
    }

    /// Marks `id` in flight on `node` for `common`'s operator.
    pub fn begin(&mut self, common: &mut Common, node: NodeId, id: DispatcherId, leaving: bool) {
        let transition = Transition { node, id, leaving };
        ExpectedSets::begin(self.side, common.mode, transition);
        common.transitions.push(transition);
    }

    /// The span left `node` without an operator (it stopped there): absent, and out of the
    /// node's expected set.
    pub fn gone(&mut self, node: NodeId, id: DispatcherId, mode: Mode) {
        self.spans.mark_absent(id);
        self.sets.delta(self.side, mode, node, &[], &[id]);
    }

    /// Logs a line of the maintainer's.
    pub fn log(&mut self, text: impl FnOnce() -> String) {
        self.tracer.log(self.now, "maintainer", text);
    }
}

/// The accessors every operator writes the same way (its kind, its [`Common`] part and the boxed
/// clone), stamped into an `impl Operator for ...` block.
macro_rules! operator_basics {
    ($kind:expr) => {
        fn kind(&self) -> OperatorKind {
            $kind
        }

        fn common(&self) -> &Common {
            &self.common
        }

        fn common_mut(&mut self) -> &mut Common {
            &mut self.common
        }

        fn clone_box(&self) -> Box<dyn Operator> {
            Box::new(self.clone())
        }
    };
}
pub(crate) use operator_basics;

/// One operator's life cycle, after TiCDC's `operator.Operator` (`Start`, `Check`,
/// `OnNodeRemove`, `OnTaskRemoved`, `PostFinish`, `Schedule`, `BlockTsForward`). It is driven
/// only by the controller: it never sends, it says what to send.
pub trait Operator: fmt::Debug {
    /// Its kind.
    fn kind(&self) -> OperatorKind;
    /// What every operator keeps.
    fn common(&self) -> &Common;
    /// What every operator keeps, to change.
    fn common_mut(&mut self) -> &mut Common;
    /// A copy (operators are kept as trait objects).
    fn clone_box(&self) -> Box<dyn Operator>;
    /// The spans it occupies besides its own (a merge's sources).
    fn sources(&self) -> &[DispatcherId] {
        &[]
    }
    /// Where it is, and its origin and destination, for descriptions.
    fn shape(&self) -> (Phase, Option<NodeId>, Option<NodeId>);
    /// Starts it: marks its spans and in-flight IDs, logs, and returns its first command.
    fn start(&mut self, ctx: &mut Context<'_>) -> Command;
    /// The expected-set change it makes (when: [`Ordering::applies_at`]).
    fn change(&self) -> SetChange;
    /// A status of its span from `from`.
    fn on_status(
        &mut self,
        from: NodeId,
        state: ComponentState,
        checkpoint_ts: u64,
        ctx: &mut Context<'_>,
    ) -> Next;
    /// `node` left the cluster.
    fn on_node_removed(&mut self, node: NodeId, ctx: &mut Context<'_>) -> Next;
    /// Its table was dropped: how it ends before the remove operator takes over.
    fn on_task_removed(&self) -> Next;
    /// Its span bookkeeping once finished (the controller makes its change, if the ordering
    /// says so).
    fn post_finish(&mut self, ctx: &mut Context<'_>);
    /// The add operators its `PostFinish` asks for (a balance split's callback), taken once.
    fn placements(&mut self) -> Vec<split::Placement> {
        Vec::new()
    }
    /// It ends without its change: the span is absent (a start-time change is undone).
    fn finish_as_absent(&mut self, ctx: &mut Context<'_>);
    /// A merge gives up; other kinds never return [`Next::Abort`] and end as absent.
    fn abort(&mut self, node_lost: bool, ctx: &mut Context<'_>) {
        let _ = node_lost;
        self.finish_as_absent(ctx);
    }
    /// A move replaced by a table drop; other kinds never return [`Next::Cancel`] and end as
    /// absent.
    fn cancel(&mut self, ctx: &mut Context<'_>) {
        self.finish_as_absent(ctx);
    }
    /// The command of its current phase, to send again.
    fn command(&self, spans: &SpanBook) -> Command;
    /// Whether it holds the checkpoint at its span's stored checkpoint (TiCDC's
    /// `BlockTsForward`).
    fn holds_floor(&self) -> bool;
}

impl Clone for Box<dyn Operator> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// The operators in flight, each keyed by a number, and which span each occupies.
///
/// As TiCDC's controller (`maintainer/operator/operator_controller.go`) keeps a map by span
/// beside its running queue, an operator is *mapped* while `span_op` names it for its span.
/// Every operator is mapped for its whole life, except one that a later push for its span
/// replaced in the map (`pushOperator` overwrites the entry; zoo bug #4077's race, the only
/// way here): such an *orphan* still runs and resends its command (`pollQueueingOperator` ->
/// `Schedule`), but no status reaches it (`UpdateOperatorStatus` looks it up in the map), no
/// node loss (`OnNodeRemoved` and `GetAllOperators` read the map), its floor does not count
/// (`GetMinCheckpointTs` reads `GetAllOperators`), and so it never finishes.
#[derive(Clone, Debug, Default)]
pub struct Operators {
    operators: BTreeMap<u64, Box<dyn Operator>>,
    span_op: BTreeMap<DispatcherId, u64>,
    next: u64,
}

impl Operators {
    /// Whether an operator occupies span `id` (its own, or a merge's source).
    pub fn occupies(&self, id: &DispatcherId) -> bool {
        self.span_op.contains_key(id)
    }

    /// The operator that occupies span `id`.
    pub fn on_span(&self, id: &DispatcherId) -> Option<&dyn Operator> {
        self.span_op
            .get(id)
            .and_then(|op| self.operators.get(op))
            .map(|op| op.as_ref())
    }

    /// Whether an orphan (an operator a later push replaced in the map) still sends commands
    /// for span `id` to `node`.
    pub fn orphan_involves(&self, id: &DispatcherId, node: NodeId) -> bool {
        self.operators.iter().any(|(key, op)| {
            let (_, origin, dest) = op.shape();
            op.common().span == *id
                && !self.mapped(*key, op.as_ref())
                && (origin == Some(node) || dest == Some(node))
        })
    }

    /// How many are in flight.
    pub fn len(&self) -> usize {
        self.operators.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.operators.is_empty()
    }

    /// Every operator in flight, in start order.
    pub fn iter(&self) -> impl Iterator<Item = &dyn Operator> {
        self.operators.values().map(|op| op.as_ref())
    }

    /// The first few in flight, briefly.
    pub fn describe(&self) -> String {
        self.iter()
            .take(4)
            .map(|op| {
                let (phase, origin, dest) = op.shape();
                format!(
                    "{} {} {phase:?} {origin:?}->{dest:?}",
                    op.kind().name(),
                    short(op.common().span)
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Starts `operator` unless one of its spans is occupied (TiCDC `AddOperator`'s existence
    /// check); its first command.
    pub fn start(&mut self, operator: Box<dyn Operator>, ctx: &mut Context<'_>) -> Option<Command> {
        let span = operator.common().span;
        if self.occupies(&span) || operator.sources().iter().any(|s| self.occupies(s)) {
            return None;
        }
        Some(self.push(operator, ctx))
    }

    /// Whether the operator keyed `op` is the one the map names for its span (not an orphan).
    fn mapped(&self, op: u64, operator: &dyn Operator) -> bool {
        self.span_op.get(&operator.common().span) == Some(&op)
    }

    /// Pushes `operator` without the existence check (`operator_controller.go`
    /// `pushOperator`): it takes its spans' entries in the map, replacing any operator there,
    /// which runs on as an orphan. Its first command.
    fn push(&mut self, mut operator: Box<dyn Operator>, ctx: &mut Context<'_>) -> Command {
        let span = operator.common().span;
        let id = self.next;
        self.next += 1;
        self.span_op.insert(span, id);
        for source in operator.sources() {
            self.span_op.insert(*source, id);
        }
        let command = operator.start(ctx);
        let mode = operator.common().mode;
        ctx.change_at(Moment::Start, mode, &operator.change());
        self.operators.insert(id, operator);
        command
    }

    /// The adds a finished split's callback asks for (`balance_splits.go` `Execute`: its
    /// `AddOperator` of an `AddDispatcherOperator` to the planned node). When the basic
    /// scheduler raced it for the span (`basic.go` `schedule` -> `AddOperator`), both passed
    /// the existence check and the basic scheduler's add was pushed last: it replaces the
    /// callback's in the map, and the callback's runs on as an orphan.
    fn place(
        &mut self,
        placement: split::Placement,
        ctx: &mut Context<'_>,
        commands: &mut Vec<Command>,
    ) {
        let split::Placement {
            span,
            mode,
            target,
            racing,
        } = placement;
        let callback = add::AddOperator::new(mode, span, target, ctx.now);
        commands.extend(self.start(Box::new(callback), ctx));
        if let Some(dest) = racing {
            ctx.log(|| {
                format!(
                    "the basic scheduler's add of {} to {dest} and the split's to {target} both pass AddOperator's check; the later replaces the earlier in the map",
                    short(span)
                )
            });
            let basic = add::AddOperator::new(mode, span, dest, ctx.now);
            commands.push(self.push(Box::new(basic), ctx));
        }
    }

    /// A status of span `id` (its state and checkpoint) from `from` in a heartbeat made at
    /// `made_at`, for the operator keyed by that span (a merge's sources ignore statuses, as its
    /// occupy placeholders do).
    #[allow(clippy::too_many_arguments)] // one status, its sender and time, and the context
    pub fn status(
        &mut self,
        from: NodeId,
        id: DispatcherId,
        state: ComponentState,
        checkpoint_ts: u64,
        made_at: u64,
        ctx: &mut Context<'_>,
        commands: &mut Vec<Command>,
    ) {
        let Some(&op) = self.span_op.get(&id) else {
            return;
        };
        let Some(operator) = self.operators.get_mut(&op) else {
            return;
        };
        if operator.common().span != id {
            return;
        }
        let next = operator.on_status(from, state, checkpoint_ts, ctx);
        self.advance(op, next, Some(made_at), ctx, commands);
    }

    /// `node` left: every operator takes its node-loss path, in start order.
    pub fn node_removed(
        &mut self,
        node: NodeId,
        ctx: &mut Context<'_>,
        commands: &mut Vec<Command>,
    ) {
        // The mapped ones only: TiCDC's `OnNodeRemoved` reads the map (`GetAllOperators`).
        let keys: Vec<u64> = self
            .operators
            .iter()
            .filter(|(op, operator)| self.mapped(**op, operator.as_ref()))
            .map(|(op, _)| *op)
            .collect();
        for op in keys {
            let Some(operator) = self.operators.get_mut(&op) else {
                continue;
            };
            let next = operator.on_node_removed(node, ctx);
            self.advance(op, next, None, ctx, commands);
        }
    }

    /// The table of span `id` was dropped: the operator on it, if any, ends its way.
    pub fn task_removed(
        &mut self,
        id: DispatcherId,
        ctx: &mut Context<'_>,
        commands: &mut Vec<Command>,
    ) {
        let Some(&op) = self.span_op.get(&id) else {
            return;
        };
        let Some(operator) = self.operators.get(&op) else {
            return;
        };
        let next = operator.on_task_removed();
        self.advance(op, next, None, ctx, commands);
    }

    /// The command of every operator waiting longer than `interval`, again.
    pub fn resend(&mut self, now: u64, interval: u64, spans: &SpanBook) -> Vec<Command> {
        let mut commands = Vec::new();
        for operator in self.operators.values_mut() {
            if now.saturating_sub(operator.common().last_sent) < interval {
                continue;
            }
            operator.common_mut().last_sent = now;
            commands.push(operator.command(spans));
        }
        commands
    }

    /// The lowest stored checkpoint of a span of `mode` a mapped operator holds the floor for
    /// (TiCDC `operator_controller.go` `GetMinCheckpointTs` over `GetAllOperators`, the map;
    /// under `zoo` #3045, a move or split only once its origin stopped).
    pub fn floor(&self, mode: Mode, spans: &SpanBook, zoo: ZooBug) -> Option<u64> {
        self.operators
            .iter()
            .filter(|(key, op)| self.mapped(**key, op.as_ref()))
            .map(|(_, op)| op)
            .filter(|op| {
                op.holds_floor()
                    && op.common().mode == mode
                    && zoo.operator_holds_floor(op.kind(), op.shape().0 == Phase::RemoveOrigin)
            })
            .filter_map(|op| spans.get(&op.common().span).map(|v| v.checkpoint))
            .min()
    }

    /// Every (node, id) an operator has in flight.
    pub fn in_flight_pairs(&self) -> impl Iterator<Item = (NodeId, DispatcherId)> + '_ {
        self.operators
            .values()
            .flat_map(|op| op.common().transitions.iter().map(|t| (t.node, t.id)))
    }

    fn advance(
        &mut self,
        op: u64,
        next: Next,
        made_at: Option<u64>,
        ctx: &mut Context<'_>,
        commands: &mut Vec<Command>,
    ) {
        let made_at = match next {
            Next::Wait => return,
            Next::Send(command) => {
                if let Some(operator) = self.operators.get_mut(&op) {
                    operator.common_mut().last_sent = ctx.now;
                }
                commands.push(command);
                return;
            }
            Next::Finish => made_at,
            _ => None,
        };
        let Some(mut operator) = self.operators.remove(&op) else {
            return;
        };
        // `finalizeOperator` deletes the map's entry only if it is still this operator's.
        for span in std::iter::once(&operator.common().span).chain(operator.sources()) {
            if self.span_op.get(span) == Some(&op) {
                self.span_op.remove(span);
            }
        }
        let (kind, mode, span) = (
            operator.kind(),
            operator.common().mode,
            operator.common().span,
        );
        let mut placements = Vec::new();
        match next {
            Next::Finish => {
                operator.post_finish(ctx);
                ctx.change_at(Moment::PostFinish, mode, &operator.change());
                placements = operator.placements();
            }
            Next::Absent => operator.finish_as_absent(ctx),
            Next::Abort { node_lost } => operator.abort(node_lost, ctx),
            Next::Cancel => operator.cancel(ctx),
            Next::Wait | Next::Send(_) => {}
        }
        let transitions = std::mem::take(&mut operator.common_mut().transitions);
        ctx.sets
            .end_transitions(ctx.side, ctx.members, mode, &transitions, made_at);
        match next {
            Next::Finish => ctx.log(|| format!("{} of {} finished", kind.name(), short(span))),
            Next::Absent => {
                ctx.log(|| format!("{} of {} ended as absent", kind.name(), short(span)))
            }
            Next::Abort { .. } => {
                ctx.log(|| format!("{} into {} aborted", kind.name(), short(span)))
            }
            _ => {}
        }
        for placement in placements {
            self.place(placement, ctx, commands);
        }
    }
}

/// A maintainer's worth of state around an operator controller, for the operators' unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::config::{Protocol, SimConfig};
    use crate::maintainer::spans::{SpanStatus, SpanView};
    use crate::planted::PlantedBug;
    use dispatcher_checksum::protocol::ChangefeedId;

    pub(crate) struct Harness {
        pub spans: SpanBook,
        pub sets: ExpectedSets,
        pub side: Box<dyn MaintainerProtocol>,
        pub members: BTreeSet<NodeId>,
        pub world: World,
        pub tracer: Tracer,
        pub operators: Operators,
        pub ordering: Ordering,
        pub now: u64,
        pub zoo: ZooBug,
        next_id: u64,
    }

    macro_rules! with_context {
        ($h:ident, $ctx:ident => $body:expr) => {{
            let mut $ctx = Context {
                now: $h.now,
                ordering: $h.ordering,
                spans: &mut $h.spans,
                sets: &mut $h.sets,
                side: $h.side.as_mut(),
                members: &$h.members,
                world: &mut $h.world,
                tracer: &mut $h.tracer,
                zoo: $h.zoo,
            };
            $body
        }};
    }

    impl Harness {
        /// Nodes 1 to 3, a reference maintainer side with a default-mode tracker.
        pub fn new(ordering: Ordering) -> Harness {
            let changefeed = ChangefeedId::new(1, 0, "test", "default");
            Harness {
                spans: SpanBook::default(),
                sets: ExpectedSets::new(PlantedBug::None),
                side: Protocol::Reference.maintainer_side(
                    &SimConfig::default(),
                    &changefeed,
                    [0, 0],
                ),
                members: (1..=3).map(NodeId).collect(),
                world: World::new(),
                tracer: Tracer::new(false),
                operators: Operators::default(),
                ordering,
                now: 0,
                zoo: ZooBug::None,
                next_id: 0,
            }
        }

        pub fn new_id(&mut self) -> DispatcherId {
            self.next_id += 1;
            DispatcherId::new(7, self.next_id)
        }

        pub fn absent_span(&mut self, checkpoint: u64) -> DispatcherId {
            let id = self.new_id();
            self.spans.add_table(id, Mode::Default, checkpoint);
            self.world.add(id, Mode::Default, checkpoint);
            id
        }

        pub fn replicating_span(&mut self, node: NodeId, checkpoint: u64) -> DispatcherId {
            let id = self.absent_span(checkpoint);
            self.spans.set(
                id,
                Some(SpanView {
                    mode: Mode::Default,
                    status: SpanStatus::Replicating,
                    node: Some(node),
                    checkpoint,
                    last_state: Some(ComponentState::Working),
                    reported_at: 0,
                }),
            );
            self.sets
                .delta(self.side.as_mut(), Mode::Default, node, &[id], &[]);
            id
        }

        pub fn start(&mut self, operator: Box<dyn Operator>) -> Option<Command> {
            let h = self;
            with_context!(h, ctx => h.operators.start(operator, &mut ctx))
        }

        pub fn status(
            &mut self,
            from: NodeId,
            id: DispatcherId,
            state: ComponentState,
        ) -> Vec<Command> {
            self.status_at(from, id, state, 0)
        }

        pub fn status_at(
            &mut self,
            from: NodeId,
            id: DispatcherId,
            state: ComponentState,
            checkpoint_ts: u64,
        ) -> Vec<Command> {
            self.now += 1;
            let mut commands = Vec::new();
            let (h, made_at) = (self, 0);
            with_context!(h, ctx => h.operators.status(from, id, state, checkpoint_ts, made_at, &mut ctx, &mut commands));
            commands
        }

        pub fn node_removed(&mut self, node: NodeId) -> Vec<Command> {
            self.members.remove(&node);
            let mut commands = Vec::new();
            let h = self;
            with_context!(h, ctx => h.operators.node_removed(node, &mut ctx, &mut commands));
            commands
        }

        pub fn task_removed(&mut self, id: DispatcherId) {
            let mut commands = Vec::new();
            let h = self;
            with_context!(h, ctx => h.operators.task_removed(id, &mut ctx, &mut commands));
        }

        pub fn floor(&self) -> Option<u64> {
            self.operators
                .floor(Mode::Default, &self.spans, ZooBug::None)
        }

        /// Whether the expected sets (the oracle, fed what the tracker is fed) put `id` on `node`.
        pub fn expects(&self, node: NodeId, id: DispatcherId) -> bool {
            self.sets.committed[0].get(&id) == Some(&node)
        }
    }
}
