import { pollutionSuite } from "./suite.js";

pollutionSuite("a", 500);
