// The exact event-driven reference simulator of dynamic timing, and the source of the
// data-dependent settle times and switching energy. Semantics (docs/design/dynamic_timing.md):
//   - the circuit starts settled at (a0, acc0); at t = 0 the inputs jump to (a1, acc1);
//   - when input pin j of a gate changes at time t, the gate re-evaluates: new output value v
//     is due at T = t + (arc delay j -> out for the edge of v);
//   - transport (default): pending output events at or after T are cancelled (a faster path
//     overtakes a slower one), then v is scheduled at T unless the output is already due to end
//     at v; glitches propagate;
//   - inertial: a pending change to v stands; otherwise the pending change is cancelled and v is
//     scheduled unless the output already is v, as a Verilog gate with a delay does (pulses
//     shorter than the delay vanish). The sound bound is proven for transport only;
//   - events at equal times fire in the order they were scheduled.
// Every toggle is counted and charged by the energy model (energy.hpp).
#pragma once

#include <cstdint>
#include <vector>

#include "halo/timing/dynamic_circuit.hpp"
#include "halo/timing/energy.hpp"

namespace halo::timing {

enum class DelayMode : std::uint8_t { transport, inertial };

struct Stimulus {
    std::uint64_t a0 = 0, a1 = 0;
    std::uint64_t acc0 = 0, acc1 = 0;
};

struct EventSimResult {
    float settle_ns = 0;         // time of the last output toggle; kNever when none toggles
    std::uint64_t toggles = 0;   // every net toggle, primary inputs and glitches included
    double switching_energy_fj = 0;
};

class EventSimulator {
public:
    // `energy` may be null (then energies are 0). Both must outlive the simulator.
    EventSimulator(const DynamicCircuit& circuit, const EnergyModel* energy);

    EventSimResult run(const Stimulus& stimulus, DelayMode mode = DelayMode::transport);

    // After run(): last rising / falling toggle time of every slot (kNever when none), and values.
    const std::vector<float>& last_rise_ns() const { return last_rise_; }
    const std::vector<float>& last_fall_ns() const { return last_fall_; }
    const std::vector<std::uint8_t>& values() const { return value_; }

private:
    struct Pending {
        float time_ns;
        std::uint64_t seq;
        std::uint8_t value;
        std::uint8_t cause_input;
        std::uint8_t input_rose;
    };
    struct Queue {
        std::vector<Pending> items;
        std::size_t head = 0;
        bool empty() const { return head == items.size(); }
    };
    struct Fanout {
        std::uint32_t gate;
        std::uint8_t input;
    };
    void toggle(Slot slot, float time_ns, double internal_fj, EventSimResult& result);
    void evaluate(std::uint32_t gate, std::uint8_t input, bool input_rose, float time_ns, DelayMode mode);

    const DynamicCircuit& circuit_;
    const EnergyModel* energy_;
    std::vector<std::vector<Fanout>> fanout_;  // index = slot
    std::vector<std::int32_t> gate_of_slot_;   // driving gate, -1 for primary inputs
    std::vector<char> is_output_;
    std::vector<std::uint8_t> value_;
    std::vector<unsigned> assign_;             // current input assignment of each gate
    std::vector<Queue> pending_;               // per gate
    std::vector<float> last_rise_, last_fall_;
    std::uint64_t seq_ = 0;
    struct HeapItem {
        float time_ns;
        std::uint64_t seq;
        std::uint32_t gate;
        bool operator>(const HeapItem& o) const { return time_ns != o.time_ns ? time_ns > o.time_ns : seq > o.seq; }
    };
    std::vector<HeapItem> heap_;
};

}  // namespace halo::timing
