/**
 * A retry budget (as Envoy and Finagle have): each first attempt earns `ratio` of a retry, and a
 * retry spends one. Under a fully failing upstream the retries are then at most `ratio` of the calls
 * plus the small reserve, instead of multiplying every call by the retry count.
 */
export class RetryBudget {
    #tokens;
    #ratio;
    #reserve;
    constructor(ratio, reserve = 10) {
        this.#ratio = ratio;
        this.#reserve = reserve;
        this.#tokens = reserve;
    }
    /** Called once per call, before its first attempt. */
    deposit() {
        this.#tokens = Math.min(this.#reserve, this.#tokens + this.#ratio);
    }
    /** True when a retry may go; spends its token. */
    tryWithdraw() {
        if (this.#tokens < 1)
            return false;
        this.#tokens -= 1;
        return true;
    }
}
//# sourceMappingURL=retryBudget.js.map