//! Kind registration: C3 linearization, a global kind order, and provided hook types.

use core::any::TypeId;
use std::collections::HashMap;

use bevy_ecs::component::ComponentId;
use bevy_ecs::world::World;
use lifecycle_ecs_components::{HookTypeSet, KindDescriptor, KindId, KindsExhaustedError};

/// A kind could not be registered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KindError {
    /// The bases admit no C3 linearization (Python would refuse the class too).
    #[error("cannot linearize the bases of {kind}: no consistent method resolution order")]
    NoLinearization {
        /// The kind.
        kind: &'static str,
    },
    /// The kind's linearization orders two kinds against an order already fixed by other kinds.
    #[error("{kind} orders {first} before {second}, but earlier kinds fixed the opposite order")]
    InconsistentOrder {
        /// The kind being registered.
        kind: &'static str,
        /// The kind it wants first.
        first: &'static str,
        /// The kind it wants second.
        second: &'static str,
    },
    /// A kind among the bases is its own base, directly or through other bases (Python cannot
    /// define such a class either).
    #[error("the base kinds of {kind} form a cycle: {}", cycle.join(" → "))]
    CyclicBases {
        /// The kind being registered (the cycle may lie among its bases).
        kind: &'static str,
        /// The bases leading back to where they started, first and last the same kind
        /// (`["Ping", "Pong", "Ping"]`).
        cycle: Vec<&'static str>,
    },
    /// The process has given ids to [`KindId::CAPACITY`] kinds already.
    #[error(transparent)]
    TooManyKinds(#[from] KindsExhaustedError),
    /// A base kind is not a required component of the kind, so spawning would not insert it.
    #[error("{kind} lists {base} as a base kind but does not require it: add `#[require({base})]`")]
    MissingRequiredBase {
        /// The kind.
        kind: &'static str,
        /// The base it does not require.
        base: &'static str,
    },
}

/// What the engine knows about one registered kind.
#[derive(Clone, Debug)]
pub struct KindInfo {
    /// The kind's id.
    pub id: KindId,
    /// The kind's name.
    pub name: &'static str,
    /// Position in the engine's global kind order (bases always before derived kinds).
    pub position: u32,
    /// Every hook type the kind provides, its bases' included.
    pub provided: HookTypeSet,
    /// The kind's marker component.
    pub component: ComponentId,
    /// The kind's linearization, most derived first (Python's `__mro__`).
    pub linearization: Vec<TypeId>,
    /// The kind's AIPerf service type: its own [`SERVICE_TYPE`](lifecycle_ecs_components::ServiceKind::SERVICE_TYPE),
    /// else the first one declared along its linearization.
    pub service_type: Option<&'static str>,
}

/// The service type of every registered kind, by [`KindId::index`]: a World resource, so systems
/// that route by service type read it without the engine.
#[derive(bevy_ecs::resource::Resource, Default, Debug)]
pub(crate) struct KindServiceTypes {
    by_kind: Vec<Option<&'static str>>,
}

impl KindServiceTypes {
    /// The service type of services spawned as kind `kind` (`None`: no type, or not registered).
    #[inline]
    pub(crate) fn of(&self, kind: KindId) -> Option<&'static str> {
        self.by_kind
            .get(usize::from(kind.index()))
            .copied()
            .flatten()
    }

    /// The kinds (by [`KindId::index`]) whose services have service type `wanted`.
    pub(crate) fn kinds_with(&self, wanted: &str) -> Vec<u16> {
        self.by_kind
            .iter()
            .enumerate()
            .filter(|(_, service_type)| **service_type == Some(wanted))
            .filter_map(|(index, _)| u16::try_from(index).ok())
            .collect()
    }

    fn set(&mut self, kind: KindId, service_type: Option<&'static str>) {
        let index = usize::from(kind.index());
        if index >= self.by_kind.len() {
            self.by_kind.resize(index + 1, None);
        }
        self.by_kind[index] = service_type;
    }
}

/// The registered kinds of one engine.
#[derive(Default)]
pub struct KindRegistry {
    kinds: HashMap<TypeId, KindInfo>,
    next_position: u32,
}

impl KindRegistry {
    /// The info of a kind by id.
    pub fn by_id(&self, id: KindId) -> Option<&KindInfo> {
        self.kinds.values().find(|info| info.id == id)
    }

    /// The linearization of `kind`, most derived first (Python's `__mro__`), registered or not.
    ///
    /// # Errors
    /// [`KindError`] if the bases cannot be linearized (a cycle, an inconsistent order).
    pub fn linearization_of(&self, kind: KindDescriptor) -> Result<Vec<TypeId>, KindError> {
        if let Some(info) = self.kinds.get(&kind.type_id) {
            return Ok(info.linearization.clone());
        }
        Ok(linearize(kind, &mut Vec::new())?
            .iter()
            .map(|kind| kind.type_id)
            .collect())
    }

    /// Registers a kind and, first, its bases. Idempotent.
    pub fn register(
        &mut self,
        world: &mut World,
        kind: KindDescriptor,
    ) -> Result<&KindInfo, KindError> {
        if self.kinds.contains_key(&kind.type_id) {
            return Ok(&self.kinds[&kind.type_id]);
        }
        let linearization = linearize(kind, &mut Vec::new())?;
        // Register the bases base-first along this kind's own linearization, so a diamond's
        // bases get positions in the order this kind's hooks need.
        for base in linearization[1..].iter().rev() {
            self.register(world, *base)?;
        }
        let service_type = linearization.iter().find_map(|k| k.service_type);
        let linearization: Vec<TypeId> = linearization.iter().map(|k| k.type_id).collect();

        // Hooks run base-first, i.e. in reverse linearization: positions must increase along it.
        let reversed: Vec<&KindInfo> = linearization[1..]
            .iter()
            .rev()
            .map(|type_id| &self.kinds[type_id])
            .collect();
        for pair in reversed.windows(2) {
            if pair[0].position > pair[1].position {
                return Err(KindError::InconsistentOrder {
                    kind: kind.name,
                    first: pair[0].name,
                    second: pair[1].name,
                });
            }
        }

        let component = (kind.register_component)(world);
        let required: Vec<ComponentId> = world
            .components()
            .get_info(component)
            .map(|info| info.required_components().iter_ids().collect())
            .unwrap_or_default();
        for base in &reversed {
            if !required.contains(&base.component) {
                return Err(KindError::MissingRequiredBase {
                    kind: kind.name,
                    base: base.name,
                });
            }
        }

        let mut provided = HookTypeSet::from_slice(kind.provides);
        for base in &reversed {
            provided.union_with(&base.provided);
        }
        let info = KindInfo {
            id: KindId::try_for_type(kind.type_id, kind.name)?,
            name: kind.name,
            position: self.next_position,
            provided,
            component,
            linearization,
            service_type,
        };
        self.next_position += 1;
        world
            .get_resource_or_init::<KindServiceTypes>()
            .set(info.id, info.service_type);
        Ok(self.kinds.entry(kind.type_id).or_insert(info))
    }
}

/// The C3 linearization of a kind, most derived first: `L(K) = K + merge(L(B1), …, L(Bn), [B1 … Bn])`.
/// `path` holds the kinds being linearized around this one (derived first), to refuse cycles
/// before they recurse forever.
fn linearize(
    kind: KindDescriptor,
    path: &mut Vec<KindDescriptor>,
) -> Result<Vec<KindDescriptor>, KindError> {
    if let Some(start) = path.iter().position(|k| k.type_id == kind.type_id) {
        let mut cycle: Vec<&'static str> = path[start..].iter().map(|k| k.name).collect();
        cycle.push(kind.name);
        return Err(KindError::CyclicBases {
            kind: path[0].name,
            cycle,
        });
    }
    let bases = (kind.bases)();
    let mut sequences = Vec::with_capacity(bases.len() + 1);
    path.push(kind);
    for base in &bases {
        sequences.push(linearize(*base, path)?);
    }
    path.pop();
    sequences.push(bases);
    let by_type: HashMap<TypeId, KindDescriptor> = sequences
        .iter()
        .flatten()
        .map(|descriptor| (descriptor.type_id, *descriptor))
        .collect();
    let ids = sequences
        .iter()
        .map(|sequence| sequence.iter().map(|k| k.type_id).collect())
        .collect();
    let merged = c3_merge(ids).ok_or(KindError::NoLinearization { kind: kind.name })?;
    let mut out = vec![kind];
    out.extend(merged.iter().map(|type_id| by_type[type_id]));
    Ok(out)
}

/// Python's C3 merge; `None` when no consistent order exists.
fn c3_merge(mut sequences: Vec<Vec<TypeId>>) -> Option<Vec<TypeId>> {
    let mut out = Vec::new();
    loop {
        sequences.retain(|sequence| !sequence.is_empty());
        if sequences.is_empty() {
            return Some(out);
        }
        let head = sequences
            .iter()
            .map(|sequence| sequence[0])
            .find(|candidate| {
                sequences
                    .iter()
                    .all(|sequence| !sequence[1..].contains(candidate))
            })?;
        out.push(head);
        for sequence in &mut sequences {
            if sequence[0] == head {
                sequence.remove(0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> TypeId {
        match n {
            0 => TypeId::of::<u8>(),
            1 => TypeId::of::<u16>(),
            2 => TypeId::of::<u32>(),
            _ => TypeId::of::<u64>(),
        }
    }

    #[test]
    fn c3_merge_matches_python_for_a_diamond() {
        // class O; class A(O); class B(O); class C(A, B): C3 gives [C, A, B, O].
        let o = id(0);
        let a = id(1);
        let b = id(2);
        let merged = c3_merge(vec![vec![a, o], vec![b, o], vec![a, b]]).expect("linearizes");
        assert_eq!(merged, vec![a, b, o]);
    }

    #[test]
    fn c3_merge_rejects_inconsistent_orders() {
        let a = id(1);
        let b = id(2);
        assert_eq!(c3_merge(vec![vec![a, b], vec![b, a]]), None);
    }
}
