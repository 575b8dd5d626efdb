/**
 * The gateway serves the public HTTP API and offers no methods to other services, so its contract is
 * empty.
 */
import { defineService } from "@blueprint/core";

/** The `gateway` service. */
export const Gateway = defineService(
	"gateway",
	{},
	{ description: "the public HTTP API" },
);
