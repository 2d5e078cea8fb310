//! [`ServiceType`]: AIPerf's service type names.

use super::wire_enum_macro::wire_enum;

wire_enum! {
    /// AIPerf's `ServiceType`. Message fields that carry a service type (`service_type`,
    /// `target_service_type`) are plain strings on the wire (`ServiceType | str`), so the
    /// messages hold a `String`; these are the names AIPerf's own services use.
    ///
    /// # Example
    /// ```
    /// use lifecycle_ecs::messaging::ServiceType;
    /// assert_eq!(ServiceType::SystemController.as_str(), "system_controller");
    /// assert_eq!(ServiceType::parse("Worker"), Some(ServiceType::Worker));
    /// ```
    pub enum ServiceType {
        /// `system_controller`.
        SystemController = "system_controller",
        /// `dataset_manager`.
        DatasetManager = "dataset_manager",
        /// `timing_manager`.
        TimingManager = "timing_manager",
        /// `record_processor`.
        RecordProcessor = "record_processor",
        /// `records_manager`.
        RecordsManager = "records_manager",
        /// `worker_manager`.
        WorkerManager = "worker_manager",
        /// `worker`.
        Worker = "worker",
        /// `test_service`.
        TestService = "test_service",
    }
}

impl From<ServiceType> for String {
    fn from(service_type: ServiceType) -> Self {
        service_type.as_str().to_owned()
    }
}
