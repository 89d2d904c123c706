import { pollutionSuite } from "./suite.js";

pollutionSuite("b", 500);
