/**
 * @blueprint/core/testing — conformance suites and fixtures for transports.
 */
export {};
