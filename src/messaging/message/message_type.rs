//! [`MessageType`]: the 33 `message_type` strings AIPerf defines.

use super::wire_enum_macro::wire_enum;

wire_enum! {
    /// AIPerf's `MessageType`: the value of every message's `message_type` key.
    ///
    /// The wire field is `MessageType | str`, so other strings are allowed too: those are user
    /// messages ([`wire_message!`](crate::wire_message)) or messages kept raw
    /// ([`RawMessage`](super::RawMessage)). Names compare case-insensitively and are written
    /// lowercase.
    ///
    /// # Example
    /// ```
    /// use lifecycle_ecs::messaging::MessageType;
    /// assert_eq!(MessageType::parse("COMMAND_RESPONSE"), Some(MessageType::CommandResponse));
    /// assert_eq!(MessageType::CommandResponse.as_str(), "command_response");
    /// assert_eq!(MessageType::parse("my_custom_type"), None);
    /// assert_eq!(MessageType::ALL.len(), 33);
    /// ```
    pub enum MessageType {
        /// `all_records_received`.
        AllRecordsReceived = "all_records_received",
        /// `command`: a [`Command`](super::Command).
        Command = "command",
        /// `command_response`: a [`CommandResponse`](super::CommandResponse).
        CommandResponse = "command_response",
        /// `connection_probe`: a [`ConnectionProbe`](super::ConnectionProbe).
        ConnectionProbe = "connection_probe",
        /// `conversation_request`.
        ConversationRequest = "conversation_request",
        /// `conversation_response`.
        ConversationResponse = "conversation_response",
        /// `conversation_turn_request`.
        ConversationTurnRequest = "conversation_turn_request",
        /// `conversation_turn_response`.
        ConversationTurnResponse = "conversation_turn_response",
        /// `credits_complete`.
        CreditsComplete = "credits_complete",
        /// `credit_drop`.
        CreditDrop = "credit_drop",
        /// `credit_phase_complete`.
        CreditPhaseComplete = "credit_phase_complete",
        /// `credit_phase_progress`.
        CreditPhaseProgress = "credit_phase_progress",
        /// `credit_phase_sending_complete`.
        CreditPhaseSendingComplete = "credit_phase_sending_complete",
        /// `credit_phase_start`.
        CreditPhaseStart = "credit_phase_start",
        /// `credit_return`.
        CreditReturn = "credit_return",
        /// `dataset_configured_notification`.
        DatasetConfiguredNotification = "dataset_configured_notification",
        /// `dataset_timing_request`.
        DatasetTimingRequest = "dataset_timing_request",
        /// `dataset_timing_response`.
        DatasetTimingResponse = "dataset_timing_response",
        /// `error`: an [`ErrorMessage`](super::ErrorMessage).
        Error = "error",
        /// `heartbeat`: a [`Heartbeat`](super::Heartbeat).
        Heartbeat = "heartbeat",
        /// `inference_results`.
        InferenceResults = "inference_results",
        /// `metric_records`.
        MetricRecords = "metric_records",
        /// `parsed_inference_results`.
        ParsedInferenceResults = "parsed_inference_results",
        /// `processing_stats` (on the wire: AIPerf's `RecordsProcessingStatsMessage`).
        ProcessingStats = "processing_stats",
        /// `process_records_result`.
        ProcessRecordsResult = "process_records_result",
        /// `profile_progress` (unused by AIPerf at the reference commit).
        ProfileProgress = "profile_progress",
        /// `profile_results` (unused by AIPerf at the reference commit).
        ProfileResults = "profile_results",
        /// `realtime_metrics`.
        RealtimeMetrics = "realtime_metrics",
        /// `registration` (unused by AIPerf at the reference commit).
        Registration = "registration",
        /// `service_error` (unused by AIPerf at the reference commit).
        ServiceError = "service_error",
        /// `status`: a [`Status`](super::Status).
        Status = "status",
        /// `worker_health`.
        WorkerHealth = "worker_health",
        /// `worker_status_summary`.
        WorkerStatusSummary = "worker_status_summary",
    }
}
