//! Dispatcher lifecycle states and which of them a node's fingerprint counts.
//!
//! The wire numbers are the reference system's `ComponentState`. A node counts a dispatcher in
//! its actual fingerprint only while the dispatcher is in an *included* state: a dispatcher that is
//! still being created (Initializing), or is part of a merge that has not finished (Preparing,
//! MergeReady), is not yet the maintainer's business.

use std::fmt;
use std::str::FromStr;

/// A dispatcher's lifecycle state, with the reference system's wire numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, bytemuck::NoUninit)]
#[repr(u8)]
pub enum ComponentState {
    /// Running and owning its span.
    Working = 0,
    /// Stopped but still registered.
    Stopped = 1,
    /// Removed; still reported until cleaned up.
    Removed = 2,
    /// Being created (excluded from the node's fingerprint).
    Initializing = 3,
    /// A merge target being prepared (excluded).
    Preparing = 4,
    /// A merge target ready to take over (excluded).
    MergeReady = 5,
    /// A merge source waiting for the merge to finish (included).
    WaitingMerge = 6,
}

impl ComponentState {
    /// Every state in wire order.
    pub const ALL: [ComponentState; 7] = [
        ComponentState::Working,
        ComponentState::Stopped,
        ComponentState::Removed,
        ComponentState::Initializing,
        ComponentState::Preparing,
        ComponentState::MergeReady,
        ComponentState::WaitingMerge,
    ];

    /// The wire number.
    pub const fn number(self) -> u8 {
        self as u8
    }

    /// The state with wire number `number`, if any.
    pub const fn from_number(number: u8) -> Option<ComponentState> {
        if (number as usize) < Self::ALL.len() {
            Some(Self::ALL[number as usize])
        } else {
            None
        }
    }

    /// The reference system's name (`Working`, `MergeReady`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            ComponentState::Working => "Working",
            ComponentState::Stopped => "Stopped",
            ComponentState::Removed => "Removed",
            ComponentState::Initializing => "Initializing",
            ComponentState::Preparing => "Preparing",
            ComponentState::MergeReady => "MergeReady",
            ComponentState::WaitingMerge => "WaitingMerge",
        }
    }

    /// Whether the reference node counts a dispatcher in this state.
    pub const fn is_included_by_default(self) -> bool {
        StateSet::DEFAULT_INCLUDED.contains(self)
    }
}

impl fmt::Display for ComponentState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The protobuf zero value (what an absent `component_status` field means).
impl Default for ComponentState {
    fn default() -> Self {
        ComponentState::Working
    }
}

/// The wire's `i32` (what prost reads an `enumeration` field through).
impl TryFrom<i32> for ComponentState {
    type Error = UnknownState;

    fn try_from(number: i32) -> Result<Self, Self::Error> {
        u8::try_from(number)
            .ok()
            .and_then(ComponentState::from_number)
            .ok_or_else(|| UnknownState(number.to_string()))
    }
}

/// Why a state name did not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownState(pub String);

impl fmt::Display for UnknownState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown lifecycle state {:?}: expected a name (Working, Stopped, Removed, \
             Initializing, Preparing, MergeReady, WaitingMerge) or a number 0..=6",
            self.0
        )
    }
}

impl std::error::Error for UnknownState {}

impl FromStr for ComponentState {
    type Err = UnknownState;

    /// Accepts a name in any case, with or without `_`/`-` (`merge_ready`, `MERGE-READY`), or a
    /// wire number.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if let Ok(number) = text.parse::<u8>() {
            return ComponentState::from_number(number).ok_or_else(|| UnknownState(text.into()));
        }
        let folded: String = text
            .chars()
            .filter(|c| *c != '_' && *c != '-')
            .flat_map(char::to_lowercase)
            .collect();
        ComponentState::ALL
            .into_iter()
            .find(|state| state.name().to_lowercase() == folded)
            .ok_or_else(|| UnknownState(text.into()))
    }
}

/// A set of lifecycle states as a bitmask (bit `n` for wire number `n`), the form the masked
/// kernels take.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StateSet(u64);

impl StateSet {
    /// No state.
    pub const EMPTY: StateSet = StateSet(0);
    /// Every state.
    pub const ALL: StateSet = StateSet((1 << 7) - 1);
    /// The reference node's rule: everything but Initializing, Preparing and MergeReady.
    pub const DEFAULT_INCLUDED: StateSet = StateSet::ALL
        .without(ComponentState::Initializing)
        .without(ComponentState::Preparing)
        .without(ComponentState::MergeReady);

    /// The set with `state` added.
    #[must_use]
    pub const fn with(self, state: ComponentState) -> StateSet {
        StateSet(self.0 | 1 << state as u8)
    }

    /// The set with `state` taken out.
    #[must_use]
    pub const fn without(self, state: ComponentState) -> StateSet {
        StateSet(self.0 & !(1 << state as u8))
    }

    /// Whether `state` is in the set.
    pub const fn contains(self, state: ComponentState) -> bool {
        self.0 >> state as u8 & 1 == 1
    }

    /// The bitmask the kernels take.
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// Every state but those in `excluded`.
    pub fn excluding(excluded: impl IntoIterator<Item = ComponentState>) -> StateSet {
        excluded.into_iter().fold(StateSet::ALL, StateSet::without)
    }
}

impl Default for StateSet {
    fn default() -> Self {
        StateSet::DEFAULT_INCLUDED
    }
}
