from backprop_lib.graph import softmax_cross_entropy

h_x, h_y = make_spiral(seed=5)
h_net = TwoLayerNet(2, 50, 3, seed=2)
train(h_net, softmax_cross_entropy, h_x, h_y, steps=1000, learning_rate=1.0)
h_accuracy = h_net.accuracy(h_x, h_y)
assert h_accuracy >= 0.9, f"a hidden spiral reaches only {h_accuracy:.0%} accuracy after 1000 steps (expected 90%)"
