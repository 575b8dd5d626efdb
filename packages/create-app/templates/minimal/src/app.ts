/**
 * The app: its services and the plugins they use. It is the same object in every topology;
 * `topology/monolith.json` runs it as one process, `topology/split.json` as two.
 */
import { cachePlugin } from "@blueprint/cache";
import { defineApp, service } from "@blueprint/core";
import { eventsPlugin } from "@blueprint/events";
import { Mailer } from "./mailer/contract.js";
import { MailerService } from "./mailer/service.js";
import { Users } from "./users/contract.js";
import { UsersService } from "./users/service.js";
import { Web } from "./web/contract.js";
import { WebService } from "./web/service.js";

/** The app the `blueprint` CLI loads (`"app"` in the topology files). */
export const app = defineApp({
	name: "__APP_NAME__",
	services: [
		service(Users, UsersService),
		service(Mailer, MailerService),
		service(Web, WebService),
	],
	plugins: [eventsPlugin(), cachePlugin()],
});
