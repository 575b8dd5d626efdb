/**
 * The shop: four services and the plugins they use. It is the same object in every topology;
 * `topology/monolith.json` runs it as one process, `topology/split.json` as four.
 */
import { cachePlugin } from "@blueprint/cache";
import { defineApp, service } from "@blueprint/core";
import { eventsPlugin } from "@blueprint/events";
import { Gateway } from "./gateway/contract.js";
import { GatewayService } from "./gateway/service.js";
import { Orders } from "./orders/contract.js";
import { OrdersService } from "./orders/service.js";
import { Payments } from "./payments/contract.js";
import { PaymentsService } from "./payments/service.js";
import { Products } from "./products/contract.js";
import { ProductsService } from "./products/service.js";

/** The app the `blueprint` CLI loads (`"app"` in the topology files). */
export const app = defineApp({
	name: "__APP_NAME__",
	services: [
		service(Products, ProductsService),
		service(Orders, OrdersService),
		service(Payments, PaymentsService),
		service(Gateway, GatewayService),
	],
	plugins: [eventsPlugin(), cachePlugin()],
});
