//! [`CommandResponseStatus`]: the four kinds of command response.

use super::wire_enum_macro::wire_enum;

wire_enum! {
    /// AIPerf's `CommandResponseStatus`: the `status` key of a
    /// [`CommandResponse`](super::CommandResponse), which picks the response kind.
    ///
    /// # Example
    /// ```
    /// use lifecycle_ecs::messaging::CommandResponseStatus;
    /// assert_eq!(CommandResponseStatus::parse("FAILURE"), Some(CommandResponseStatus::Failure));
    /// ```
    pub enum CommandResponseStatus {
        /// `acknowledged`: the handler returned nothing (or the command was a duplicate).
        Acknowledged = "acknowledged",
        /// `failure`: the handler failed; the response carries an `error`.
        Failure = "failure",
        /// `success`: the handler returned a value; the response carries `data`.
        Success = "success",
        /// `unhandled`: no handler for the command.
        Unhandled = "unhandled",
    }
}
