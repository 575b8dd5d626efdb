/**
 * The web service serves HTTP and offers no methods to other services, so its contract is empty.
 */
import { defineService } from "@blueprint/core";

/** The `web` service. */
export const Web = defineService(
	"web",
	{},
	{ description: "the public HTTP API" },
);
