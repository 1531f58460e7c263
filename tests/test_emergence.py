from __future__ import annotations

import numpy as np

from netsim.codes import LEADERSHIP
from netsim.processes.emergence import find_networks, network_ties
from netsim.scenario import EmergenceParams
from netsim.state import LOOSE, NONE, STRUCTURED
from netsim.ties import EXCHANGE, MARKETING

MARKET = [1, 0, 0, 0, 0]


def test_only_strong_recently_used_ties_between_participants_count(make_state):
    state = make_state(["A"] * 6, participating=[True, True, True, True, False, True])
    state.ties.reinforce(np.array([0, 1, 2, 3, 4]), np.array([1, 2, 3, 4, 5]),
                         np.array([0.9, 0.3, 0.6, 0.9, 0.9]), kind=EXCHANGE, month=1)
    state.ties.last_activity[:] = [10, 10, 10, 10, 3]
    a, b, _, _ = network_ties(state, EmergenceParams(tie_threshold=0.5, tie_memory=6), month=10)
    assert list(zip(a.tolist(), b.tolist(), strict=True)) == [(0, 1), (2, 3)]


def star_state(make_state, n=7, **kwargs):
    """Two triangles-ish clusters: 0-1, 0-2 (0 a strong leader) and 3-4, 3-5; group 6 alone."""
    values = np.linspace(0, 1, n)[:, None].repeat(3, axis=1)
    state = make_state(["A"] * n, goals=[MARKET] * n, values=values, **kwargs)
    state.capacities[:, LEADERSHIP] = 0.1
    state.capacities[0, LEADERSHIP] = 0.9
    state.ties.reinforce(np.array([0, 0, 3, 3]), np.array([1, 2, 4, 5]), 0.9, kind=EXCHANGE, month=1)
    state.ties.last_activity[:] = 1
    return state


def test_find_networks_records_each_groups_forum_and_type(make_state):
    state = star_state(make_state)
    em = find_networks(state, EmergenceParams(), month=1)
    assert em.networks.types == ["structured", "loose"] and em.formed == 2
    assert state.network_id.tolist() == [0, 0, 0, 1, 1, 1, -1]
    assert state.network_type.tolist() == [STRUCTURED] * 3 + [LOOSE] * 3 + [NONE]


def test_a_forum_keeps_its_identity_as_members_come_and_go(make_state):
    state = star_state(make_state, n=8)
    find_networks(state, EmergenceParams(), month=1)
    first = state.network_id[3]
    state.ties.reinforce(np.array([5]), np.array([7]), 0.9, kind=EXCHANGE, month=2)  # 7 joins 3's cluster
    state.ties.last_activity[:] = 2
    em = find_networks(state, EmergenceParams(), month=2)
    assert em.formed == 0 and state.network_id[7] == first == state.network_id[3]
    assert state.forum_formed[first] == 1


def test_a_forum_lapses_and_dissolves_only_after_a_sustained_lapse(make_state):
    state = star_state(make_state)
    p = EmergenceParams(dissolve_after=3, tie_memory=2, meeting_gain=0.0)
    find_networks(state, p, month=1)
    slot = state.network_id[3]
    dissolved = []
    for month in range(2, 9):  # no more joint activity: the ties stop counting from month 3
        em = find_networks(state, p, month=month)
        dissolved.append(em.dissolved)
        if month <= 5:  # lapsed from month 3, dissolved after 3 months of lapse
            assert state.forum_formed[slot] == 1 and state.network_id[3] == slot, month
    assert state.forum_formed[slot] == -1 and state.network_id[3] == -1
    assert sum(dissolved) == 2  # both forums, once each


def test_a_structured_forum_lapses_to_loose_only_after_lapse_months(make_state):
    state = star_state(make_state)
    p = EmergenceParams(lapse_months=2, meeting_gain=0.0)
    find_networks(state, p, month=1)
    state.capacities[0, LEADERSHIP] = 0.1  # the coordinator steps back: the test fails from now on
    types = []
    for month in range(2, 6):
        state.ties.last_activity[:] = month
        find_networks(state, p, month=month)
        types.append(int(state.network_type[0]))
    assert types == [STRUCTURED, STRUCTURED, LOOSE, LOOSE]


def test_a_structured_forum_meets_and_its_coordinator_grows(make_state):
    state = star_state(make_state)
    before = state.ties.strength.copy()
    leader = state.capacities[0, LEADERSHIP]
    find_networks(state, EmergenceParams(meeting_gain=0.2, leadership_gain=0.1), month=1)
    inside = np.isin(state.ties.a, [0])  # the structured forum's ties (0-1, 0-2)
    assert (state.ties.strength[inside] > before[inside]).all()
    assert (state.ties.strength[~inside] == before[~inside]).all()  # loose forums do not meet
    assert state.capacities[0, LEADERSHIP] > leader
    state2 = star_state(make_state)
    find_networks(state2, EmergenceParams(meeting_gain=0.0, leadership_gain=0.0), month=1)
    assert (state2.ties.strength == before).all()


def test_a_marketing_network_needs_sustained_joint_marketing_across_districts(make_state):
    state = make_state(["A", "B", "C", "A"], goals=[MARKET] * 4)
    state.capacities[:, LEADERSHIP] = 0.1
    state.capacities[0, LEADERSHIP] = 0.9
    state.ties.reinforce(np.array([0, 0, 0]), np.array([1, 2, 3]), 0.9, kind=MARKETING, month=1)
    p = EmergenceParams(marketing_months=3)
    seen = []
    for month in range(1, 5):
        state.ties.last_activity[:] = month
        seen.append(find_networks(state, p, month=month).marketing_districts)
    assert seen == [0, 0, 3, 3]
    state.ties.kind[:] = EXCHANGE  # working together, but not marketing: no marketing network
    for month in range(5, 9):
        state.ties.last_activity[:] = month
        assert find_networks(state, p, month=month).marketing_districts == 0


def test_non_participants_are_in_no_network(make_state):
    state = make_state(["A"] * 3, participating=[True, True, False])
    state.ties.reinforce(np.array([0, 1]), np.array([1, 2]), 0.9, kind=EXCHANGE, month=1)
    state.ties.last_activity[:] = 1
    find_networks(state, EmergenceParams(), month=1)
    assert (state.network_id == -1).all()
    assert (state.network_type == NONE).all()


def test_the_months_upkeep_is_the_same_after_the_forums_meetings(baseline):
    """Decay reads the upkeep the emergence step found before the meetings: it must still hold."""
    from netsim import NetworkModel
    from netsim.agreement import kept_up

    checked = 0
    for seed in range(4):
        model = NetworkModel(scenario=baseline, rng=seed, run_months=30, emergence_meeting_gain=0.4,
                             decay_tie_capacity=4)
        for month in range(1, 31):
            model.step()
            if month % 5:
                continue
            state, p = model.state, model.params
            t = state.ties
            before = kept_up(state.n, t.a, t.b, t.strength, p.decay.tie_capacity)
            strength = t.strength.copy()
            em = find_networks(state, p.emergence, month + 1, p.decay)
            assert not np.array_equal(strength, t.strength) or not em.networks.number_of(STRUCTURED)
            assert np.array_equal(em.upkeep, before)
            assert np.array_equal(em.upkeep, kept_up(state.n, t.a, t.b, t.strength, p.decay.tie_capacity))
            checked += int(not before.all())
    assert checked >= 10  # groups had more ties than they keep up, so the mask meant something


def test_the_upkeep_joint_activity_found_carries_over_closure(baseline):
    """The compiled month ranks again only groups with a tie closure formed: the same as ranking all."""
    from netsim import NetworkModel
    from netsim.agreement import kept_up
    from netsim.processes.emergence import emergence_kernel, kernel_params
    from netsim.processes.interaction import interaction_kernel
    from netsim.processes.interaction import kernel_params as interaction_params
    from netsim.stream import seed_stream

    formed = 0
    for seed in range(3):
        model = NetworkModel(scenario=baseline, rng=seed, run_months=24, interaction_closure_rate=0.6,
                             decay_tie_capacity=4)
        p = model.params
        for month in range(1, 25):
            model.step()
            if month % 4:
                continue
            state, t = model.state, model.state.ties
            before = t.count
            t.count, kept = interaction_kernel(state.arrays(), t.buffers(state.n), t.count, month + 1,
                                               seed_stream(model.rng),
                                               interaction_params(p.interaction, p.decay))
            formed += t.count - before
            afresh = kept_up(state.n, t.a, t.b, t.strength, p.decay.tie_capacity)
            em = emergence_kernel(state.arrays(), t.buffers(), t.count, month + 1,
                                  kernel_params(p.emergence, p.decay), kept)
            assert np.array_equal(em.upkeep, afresh)
            assert not afresh.all()  # groups had more ties than they keep up
    assert formed >= 10  # closure formed ties, so groups were ranked again
