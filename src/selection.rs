//! Which services an operation acts on.

use bevy_ecs::entity::Entity;

/// The services an operation acts on: one, a set, or all.
///
/// # Example
/// ```
/// use bevy_ecs::entity::Entity;
/// use lifecycle_ecs::Selection;
/// let one: Selection = Entity::PLACEHOLDER.into();
/// assert!(matches!(one, Selection::Many(ref list) if list.len() == 1));
/// assert!(matches!(Selection::from(vec![]), Selection::Many(_)));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selection {
    /// Every service.
    All,
    /// These services (and, through the lifecycle tree, their children).
    Many(Vec<Entity>),
}

impl From<Entity> for Selection {
    fn from(entity: Entity) -> Self {
        Self::Many(vec![entity])
    }
}

impl From<Vec<Entity>> for Selection {
    fn from(entities: Vec<Entity>) -> Self {
        Self::Many(entities)
    }
}

impl From<&[Entity]> for Selection {
    fn from(entities: &[Entity]) -> Self {
        Self::Many(entities.to_vec())
    }
}

impl<const N: usize> From<[Entity; N]> for Selection {
    fn from(entities: [Entity; N]) -> Self {
        Self::Many(entities.to_vec())
    }
}
